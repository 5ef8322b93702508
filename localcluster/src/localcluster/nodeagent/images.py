"""Which pods this node can run: only the project's own image, with a command.

There is no container runtime here: a container runs as a local process in the
project's environment, so its image must be the project image and its command must
be spelled out (there is no image entrypoint to fall back on). Any other image is one
this node cannot pull: its container waits with ErrImagePull, then ImagePullBackOff,
as a kubelet reports an image it cannot pull (the pod stays Pending).
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


def unpullable_images(pod: Mapping[str, Any], project_image: str) -> dict[str, str]:
    """Container name -> image, for the containers whose image this node cannot pull."""
    wanted = image_repository(project_image)
    return {
        container["name"]: container.get("image") or ""
        for container in pod_containers(pod)
        if image_repository(container.get("image") or "") != wanted
    }


def pull_error(image: str, project_image: str) -> str:
    """The message of ErrImagePull for `image` (the kubelet's wording, and why)."""
    return (
        f'failed to pull image "{image}": the node agent runs only the project image '
        f'"{image_repository(project_image)}"'
    )


def admission_rejection(pod: Mapping[str, Any], project_image: str) -> Rejection | None:
    """The reason this node refuses `pod` outright (its images aside), or None if it can run it."""
    for container in pod_containers(pod):
        if not container.get("command"):
            return Rejection(
                "NoEntrypoint",
                f'container "{container["name"]}" has no command: the node agent runs '
                f"processes, not images, so there is no image entrypoint to fall back on",
            )
    return None
