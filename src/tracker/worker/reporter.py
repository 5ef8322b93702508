"""The worker's reports on its OutputLifecycleJob: phase, counters while it runs, outcome."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from tracker.domain.conditions import rfc3339
from tracker.domain.records import JobCounters, JobPhase
from tracker.kube.convert import counters_status
from tracker.kube.jobstatus import with_phase
from tracker.kube.resources import GROUP, JOBS, VERSION
from tracker.kube.status import patch_status


class JobReporter:
    """Patches the job's status; counter updates are sent at most every `interval` s."""

    def __init__(self, api: client.ApiClient, namespace: str, name: str, *, interval: float = 1.0) -> None:
        self._api = api
        self._custom = client.CustomObjectsApi(api)
        self._namespace, self._name = namespace, name
        self._interval = interval
        self._last_sent = 0.0
        self.counters = JobCounters()

    def _patch(self, status: dict[str, Any]) -> None:
        self._custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, self._namespace, JOBS, self._name, {"status": status}
        )

    def _patch_phase(self, status: dict[str, Any]) -> None:
        """A phase change, with the conditions and observedGeneration it implies (read,
        computed and written with the read resourceVersion, so no condition is lost)."""
        patch_status(
            self._api,
            plural=JOBS,
            namespace=self._namespace,
            name=self._name,
            compute=lambda current: with_phase(current, status),
        )

    def running(self, *, run_id: str) -> None:
        self._patch_phase(
            {
                "phase": JobPhase.RUNNING,
                "runId": run_id,
                "startedAt": rfc3339(datetime.now(UTC)),
                "reason": "Running",
                "message": "the worker is running",
            }
        )

    def count(self, **increments: int) -> None:
        self.counters = replace(self.counters, **{k: getattr(self.counters, k) + v for k, v in increments.items()})
        if time.monotonic() - self._last_sent >= self._interval:
            self.flush()

    def set(self, **values: int) -> None:
        """Counters to absolute values (those given); sent like `count`'s."""
        self.counters = replace(self.counters, **values)
        if time.monotonic() - self._last_sent >= self._interval:
            self.flush()

    def final_status(self, phase: str, reason: str, message: str) -> dict[str, Any]:
        """The last report: the counters, the outcome and when it ended."""
        return {
            **counters_status(self.counters),
            "phase": phase,
            "reason": reason,
            "message": message,
            "completedAt": rfc3339(datetime.now(UTC)),
        }

    def flush(self) -> None:
        self._patch(counters_status(self.counters))
        self._last_sent = time.monotonic()

    def finish(self, phase: JobPhase, reason: str, message: str) -> None:
        self._patch_phase(self.final_status(phase, reason, message))
