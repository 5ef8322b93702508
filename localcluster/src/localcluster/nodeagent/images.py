"""Which pods this node can run: only the project's own image, with a command.

There is no container runtime here: a container runs as a local process in the
project's environment, so its image must be the project image and its command must
be spelled out (there is no image entrypoint to fall back on).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_IMAGE = "workflow-tracker"


@dataclass(frozen=True)
class Rejection:
    """Why the node refuses a pod: becomes the Failed pod's reason and message."""

    reason: str
    message: str


def image_repository(image: str) -> str:
    """The last path component of an image reference, without tag or digest.

    `ghcr.io/x/workflow-tracker:1.0` and `localhost:5000/workflow-tracker@sha256:..`
    both give `workflow-tracker`.
    """
    without_digest = image.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def pod_containers(pod: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Init containers then containers, in spec order."""
    spec = pod.get("spec") or {}
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def admission_rejection(pod: Mapping[str, Any], project_image: str) -> Rejection | None:
    """The reason this node cannot run `pod`, or None if it can."""
    wanted = image_repository(project_image)
    for container in pod_containers(pod):
        image = container.get("image") or ""
        if image_repository(image) != wanted:
            return Rejection(
                "UnsupportedImage",
                f'node agent runs only the project image "{wanted}"; '
                f'container "{container["name"]}" uses "{image}"',
            )
    for container in pod_containers(pod):
        if not container.get("command"):
            return Rejection(
                "NoEntrypoint",
                f'container "{container["name"]}" has no command: the node agent runs '
                f"processes, not images, so there is no image entrypoint to fall back on",
            )
    return None
