"""Why a worker pod cannot start, read from its status as the kubelet reports it.

Pure logic over the pod's `status` (a plain dict): a container waiting for a reason
that will not fix itself soon (a missing Secret or ConfigMap, an image that cannot be
pulled, a crash loop), a container that ended before the worker reported Running, or
a pod the scheduler cannot place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Waiting reasons of a container that cannot start (kubelet's own spellings).
BLOCKING_WAITING_REASONS = frozenset(
    {
        "CreateContainerConfigError",
        "CreateContainerError",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CrashLoopBackOff",
        "RunContainerError",
    }
)
UNSCHEDULABLE = "Unschedulable"


@dataclass(frozen=True)
class StartProblem:
    """What stops the worker pod: the kubelet's or the scheduler's reason and message."""

    reason: str
    message: str


def start_problem(pod: Mapping[str, Any]) -> StartProblem | None:
    """The reason `pod` cannot start its worker, or None while it may still start (or runs)."""
    name = (pod.get("metadata") or {}).get("name", "?")
    status = pod.get("status") or {}
    for container in [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in BLOCKING_WAITING_REASONS:
            return StartProblem(waiting["reason"], _message(name, container["name"], waiting.get("message")))
    for condition in status.get("conditions") or ():
        if (condition.get("type"), condition.get("status"), condition.get("reason")) == (
            "PodScheduled",
            "False",
            UNSCHEDULABLE,
        ):
            return StartProblem(
                UNSCHEDULABLE, f"worker pod {name} cannot be scheduled: {condition.get('message') or 'no node fits'}"
            )
    if status.get("phase") == "Failed" and status.get("reason"):
        return StartProblem(status["reason"], f"worker pod {name} failed: {status.get('message') or status['reason']}")
    return None


def _message(pod: str, container: str, detail: str | None) -> str:
    return f"worker pod {pod} (container {container}) cannot start: {detail or 'no message'}"
