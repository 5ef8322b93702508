"""Sharded lifecycle jobs on the operator's side: planning the key ranges at admission,
and deciding the outcome once the Indexed Job has ended.

Admission counts the run's indexed outputs under its outputDir; from
`lifecycle.shard_min_objects` on, a delete or move runs as `lifecycle.shards` worker
pods, one per key range cut at equal-count boundaries of those keys
(`tracker.domain.shards`). Each shard reports its own entry in `status.shards` (and the
job's counters, their sums). When the Kubernetes Job completes (every index exited 0),
the job's outcome is decided here, once: Failed with the reason of a shard that failed
for good, else the index step the single worker does at its end (outputs marked
deleted, or rows and outputDir rewritten) and Succeeded with the summed counters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from tracker.domain.conditions import rfc3339
from tracker.domain.cost import human_size
from tracker.domain.records import JobPhase, Operation
from tracker.domain.shards import (
    KeyRange,
    boundary_offsets,
    failure,
    ranges_from_boundaries,
    shard_count,
    totals,
)
from tracker.kube.client import resource
from tracker.kube.jobstatus import with_phase
from tracker.kube.resources import GROUP, JOBS, VERSION
from tracker.kube.status import patch_status
from tracker.operator.context import OperatorContext
from tracker.store import shardkeys
from tracker.worker import indexops
from tracker.worker.runs import find_job_run

Status = dict[str, Any]
SHARDED = (Operation.DELETE_OUTPUTS, Operation.MOVE_OUTPUTS)


def plan(ctx: OperatorContext, run: dict[str, Any], run_id: str, operation: Operation) -> list[KeyRange]:
    """The key ranges of a delete or move to run sharded; empty: one worker pod."""
    output_dir = run["spec"].get("outputDir")
    settings = ctx.settings.lifecycle
    if operation not in SHARDED or not output_dir or settings.shard_min_objects <= 0:
        return []
    with ctx.sessions() as session:
        count = shardkeys.count_under(session, run_id=run_id, prefix=output_dir)
        shards = shard_count(count, min_objects=settings.shard_min_objects, shards=settings.shards)
        if shards == 0:
            return []
        boundaries = shardkeys.keys_at(
            session, run_id=run_id, prefix=output_dir, offsets=boundary_offsets(count, shards)
        )
    return ranges_from_boundaries(boundaries)


def is_sharded(job: dict[str, Any]) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def completed(job: dict[str, Any]) -> bool:
    """Whether the Kubernetes Job completed: every index succeeded (its pod exited 0)."""
    conditions = (job.get("status") or {}).get("conditions") or ()
    return any(c.get("type") == "Complete" and c.get("status") == "True" for c in conditions)


def finish(ctx: OperatorContext, namespace: str, name: str, uid: str) -> None:
    """Decide a sharded job's outcome after its Indexed Job completed (idempotent)."""
    try:
        current = resource(ctx.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, JOBS, name))
    except ApiException as error:
        if error.status == 404:
            return
        raise
    status = current.get("status") or {}
    if current["metadata"]["uid"] != uid or JobPhase(status.get("phase") or JobPhase.ENQUEUED).finished:
        return
    outcome = decide(ctx, current)

    def compute(latest: dict[str, Any]) -> Status | None:
        phase = (latest.get("status") or {}).get("phase") or JobPhase.ENQUEUED
        if latest["metadata"]["uid"] != uid or JobPhase(phase).finished:
            return None
        return with_phase(latest, {**outcome, "completedAt": rfc3339(datetime.now(UTC))})

    patch_status(ctx.api, plural=JOBS, namespace=namespace, name=name, compute=compute)


def decide(ctx: OperatorContext, job: dict[str, Any]) -> Status:
    """Failed naming the shard that failed, or the index step done and Succeeded."""
    status, spec = job["status"], job["spec"]
    entries: dict[str, dict[str, Any]] = status.get("shards") or {}
    count = int(status.get("shardCount") or len(entries))
    counters = totals(entries)
    failed = failure(entries, count)
    if failed is not None:
        return {**counters, "phase": JobPhase.FAILED, "reason": failed[0], "message": failed[1]}
    run = find_job_run(ctx.api, ctx.sessions, ref=spec["run"], namespace=job["metadata"]["namespace"])
    if run is None or (run.get("status") or {}).get("id") != status.get("runId"):
        return {
            **counters,
            "phase": JobPhase.FAILED,
            "reason": "RunNotFound",
            "message": f"run {spec['run']!r} no longer exists",
        }
    message, extra = _index_step(ctx, run, spec, counters, count)
    return {**counters, **extra, "phase": JobPhase.SUCCEEDED, "reason": "Completed", "message": message}


def _index_step(
    ctx: OperatorContext, run: dict[str, Any], spec: dict[str, Any], counters: dict[str, int], count: int
) -> tuple[str, dict[str, int]]:
    """What the single worker does after its S3 work, for the whole run: the outcome's
    message and the counters it adds."""
    source = run["spec"]["outputDir"]
    shards = f"in {count} shards"
    if Operation(spec["operation"]) is Operation.DELETE_OUTPUTS:
        if spec.get("dryRun"):
            found = f"{counters['objectsToDelete']} objects ({human_size(counters['bytesToDelete'])})"
            return f"dry run: would delete {found} under {source} ({shards}); nothing was changed", {}
        indexops.record_outputs_deleted(
            api=ctx.api, sessions=ctx.sessions, run=run, by=spec["requestedBy"], prices=ctx.settings.prices
        )
        deleted = f"{counters['objectsDeleted']} objects ({human_size(counters['bytesDeleted'])})"
        return f"deleted {deleted} under {source} {shards}", {}
    destination = spec["destination"]
    if spec.get("dryRun"):
        found = f"{counters['objectsToMove']} objects ({human_size(counters['bytesToMove'])})"
        return f"dry run: would move {found} from {source} to {destination} ({shards}); nothing was changed", {}
    rows = 0
    if source != destination:  # else an earlier attempt rewrote them (and outputDir) before it stopped
        rows = indexops.record_outputs_moved(api=ctx.api, sessions=ctx.sessions, run=run, new_prefix=destination)
    moved = f"{counters['objectsCopied']} objects ({human_size(counters['bytesCopied'])})"
    return f"moved {moved} from {source} to {destination} {shards}; {rows} index rows rewritten", {
        "rowsRewritten": rows
    }
