"""The reports of one pod of a sharded job: its own entry in `status.shards`, and the
job's counters recomputed as the sums of every shard's, in the same write.

Each write reads the job, computes the entry and the sums from what it read, and
patches with that resourceVersion (`tracker.kube.status.patch_status`): shards writing
at once conflict and recompute, so no shard's counts are ever lost or counted twice.
A shard does not decide the job's outcome: it says Succeeded or Failed (with a reason)
for itself; the operator decides the job's once the Indexed Job has ended
(`tracker.operator.shards`). A shard that sees another one Failed stops where it is
(`ShardStopped`, raised from a counter update; the batches in flight are settled
first), so a failure ends the job about as soon as it would with one pod.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from tracker.domain.conditions import rfc3339
from tracker.domain.records import JobPhase
from tracker.domain.shards import Shard, shard_key, totals, with_shard
from tracker.kube.convert import counters_status
from tracker.kube.jobstatus import with_phase
from tracker.kube.resources import JOBS
from tracker.kube.status import patch_status
from tracker.worker.reporter import JobReporter

STOPPED = "Stopped"


class ShardStopped(Exception):
    """Another shard of the job failed for good: this one stops (its counts are kept)."""


class ShardReporter(JobReporter):
    """`JobReporter` for shard `shard` of a sharded job."""

    def __init__(self, api: client.ApiClient, namespace: str, name: str, shard: Shard, *, interval: float = 1.0):
        super().__init__(api, namespace, name, interval=interval)
        self.shard = shard
        self.failed_shard: str | None = None  # another shard that failed, seen at the last write

    def _write(self, entry: dict[str, Any], *, start: dict[str, Any] | None = None) -> None:
        """Shard entry `entry` and the summed counters; with `start`, also the job's
        Running phase while it is still Enqueued."""

        def compute(current: dict[str, Any]) -> dict[str, Any]:
            status = current.get("status") or {}
            entries = with_shard(status.get("shards") or {}, self.shard.index, entry)
            self.failed_shard = next(
                (
                    k
                    for k, e in sorted(entries.items())
                    if k != shard_key(self.shard.index) and e.get("phase") == "Failed"
                ),
                None,
            )
            patch: dict[str, Any] = {
                "shards": {shard_key(self.shard.index): entries[shard_key(self.shard.index)]},
                **totals(entries),
            }
            if start and (status.get("phase") or JobPhase.ENQUEUED) == JobPhase.ENQUEUED:
                patch = with_phase(current, {**patch, **start})
            return patch

        patch_status(self._api, plural=JOBS, namespace=self._namespace, name=self._name, compute=compute)
        self._last_sent = time.monotonic()

    def running(self, *, run_id: str) -> None:
        now = rfc3339(datetime.now(UTC))
        self._write(
            {"phase": JobPhase.RUNNING, "startedAt": now},
            start={
                "phase": JobPhase.RUNNING,
                "runId": run_id,
                "startedAt": now,
                "reason": "Running",
                "message": f"the worker is running in {self.shard.count} shards",
            },
        )

    def flush(self) -> None:
        self._write(counters_status(self.counters))
        if self.failed_shard is not None:
            raise ShardStopped(f"shard {self.failed_shard} failed: shard {self.shard.index} stopped")

    def stop(self, message: str) -> None:
        """This shard stopped because another failed: its final counters, phase Stopped."""
        self._write(self.final_status(STOPPED, STOPPED, message))

    def finish(self, phase: JobPhase, reason: str, message: str) -> None:
        self._write(self.final_status(phase, reason, message))
