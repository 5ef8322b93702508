"""Writing a pod's status and finalising its deletion, as the kubelet's status manager does.

Status goes out as a JSON merge patch of pods/status carrying the resourceVersion it
was computed from: a 409 Conflict means someone else changed the pod, so the pod is
read afresh and the status recomputed. Nothing is sent when the status would not
change. The final delete (grace period 0, preconditioned on the uid) makes a deleted
pod disappear once its processes are gone.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping
from typing import Any

from localcluster.nodeagent.kube import Kube, pod_path, status_of
from localcluster.nodeagent.podstatus import PodReport, now_rfc3339, pod_status

log = logging.getLogger(__name__)

CONFLICT_RETRIES = 5


class PodGone(LookupError):
    """The pod was deleted (or replaced by another with the same name)."""


class StatusReporter:
    """Patches one pod's status whenever what the node would report changes."""

    def __init__(self, kube: Kube, pod: Mapping[str, Any]) -> None:
        metadata = pod["metadata"]
        self._kube = kube
        self._path = pod_path(metadata["namespace"], metadata["name"])
        self._uid = metadata["uid"]
        self._last: dict[str, Any] | None = None
        self.last_phase: str | None = None

    def publish(self, pod: Mapping[str, Any], report: PodReport) -> None:
        """Send the status for `report` unless it is what was last sent."""
        status = pod_status(pod, report, now_rfc3339())
        if _fingerprint(status) == self._last:
            return
        for _ in range(CONFLICT_RETRIES):
            body = {"metadata": {"resourceVersion": pod["metadata"]["resourceVersion"]}, "status": status}
            try:
                self._kube.patch(f"{self._path}/status", body)
            except Exception as error:
                if status_of(error) == 404:
                    raise PodGone(self._path) from error
                if status_of(error) != 409:
                    raise
                pod = self._fresh()
                status = pod_status(pod, report, now_rfc3339())
                continue
            self._last, self.last_phase = _fingerprint(status), status["phase"]
            return
        raise RuntimeError(f"status of {self._path}: still conflicting after {CONFLICT_RETRIES} tries")

    def _fresh(self) -> dict[str, Any]:
        try:
            pod = self._kube.get(self._path)
        except Exception as error:
            if status_of(error) == 404:
                raise PodGone(self._path) from error
            raise
        if pod["metadata"]["uid"] != self._uid:
            raise PodGone(self._path)
        return pod


def _fingerprint(status: Mapping[str, Any]) -> dict[str, Any]:
    """The status without condition timestamps, which differ between identical reports."""
    stripped = copy.deepcopy(dict(status))
    for condition in stripped.get("conditions") or []:
        condition.pop("lastTransitionTime", None)
    return stripped


def final_delete(kube: Kube, pod: Mapping[str, Any], attempts: int = 5) -> None:
    """Delete the pod with grace period 0, only if it is still the same pod (uid)."""
    metadata = pod["metadata"]
    body = {"gracePeriodSeconds": 0, "preconditions": {"uid": metadata["uid"]}}
    for attempt in range(attempts):
        try:
            kube.delete(pod_path(metadata["namespace"], metadata["name"]), body)
            return
        except Exception as error:
            if status_of(error) in (404, 409):
                return
            if attempt == attempts - 1:
                log.error("pod %s/%s: final delete failed: %s", metadata["namespace"], metadata["name"], error)
                return
            time.sleep(0.5 * (attempt + 1))
