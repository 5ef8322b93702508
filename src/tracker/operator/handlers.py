"""Every kopf handler of the operator, registered in this one module.

Each handler is a call or two into `tracking`, `runs`, `lifecycle`, `workers`, `mirror`
and `archive` (start-up starts the start-deadline scheduler of lifecycle jobs, the
index's heartbeat writer and the run archiver's periodic pass; the run tracker starts
its scheduler at the first run event); the logic lives there and in `tracker.domain`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf

from tracker.kube.resources import GROUP, JOBS, LABEL_DUPLICATE_OF, LABEL_LIFECYCLE_JOB_UID, RUNS, VERSION
from tracker.operator import archive, lifecycle, mirror, runs, workers
from tracker.operator.context import OperatorContext, build_context
from tracker.operator.diffbase import DiffBaseStorage
from tracker.operator.tracking import RunTracker
from tracker.settings import Settings

PREFIX = GROUP


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    tracker_settings = Settings()
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = DiffBaseStorage(prefix=PREFIX)  # none for runs
    # No handler needs a finalizer now; kopf removes this one from runs that still carry it.
    settings.persistence.finalizer = f"{PREFIX}/operator"
    settings.posting.level = logging.WARNING  # handler chatter stays in the log, not in Events
    settings.execution.max_workers = 8
    settings.watching.server_timeout = 300  # a watch resumes from its resourceVersion: no re-listing
    settings.watching.chunk_size = 500  # list 10,000 runs a page at a time
    settings.peering.lifetime = tracker_settings.peering_lifetime_seconds
    memo.ctx = await asyncio.to_thread(build_context, tracker_settings)
    memo.tracker = RunTracker()
    memo.deadlines = asyncio.create_task(
        memo.ctx.start_deadlines.run(lambda key: asyncio.to_thread(workers.enforce_start_deadline, memo.ctx, key))
    )
    memo.archiver = asyncio.create_task(archive.run(memo.ctx))
    memo.heartbeats = asyncio.create_task(mirror.write_heartbeats(memo.ctx))


@kopf.on.cleanup()
async def stop_deadlines(memo: kopf.Memo, **_: Any) -> None:
    memo.deadlines.cancel()
    memo.tracker.stop()
    memo.archiver.cancel()
    memo.heartbeats.cancel()
    await memo.ctx.async_status.close()


def _ctx(memo: kopf.Memo) -> OperatorContext:
    return memo.ctx  # type: ignore[no-any-return]


def _tracker(memo: kopf.Memo) -> RunTracker:
    return memo.tracker  # type: ignore[no-any-return]


# -- WorkflowRun -------------------------------------------------------------------
@kopf.on.event(GROUP, VERSION, RUNS)
async def run_changed(event: kopf.RawEvent, memo: kopf.Memo, **_: Any) -> None:
    ctx, tracker = _ctx(memo), _tracker(memo)
    run: dict[str, Any] = dict(event["object"])  # the raw object: kopf's Body views cost CPU
    if event["type"] == "DELETED":
        tracker.leave(runs.raw_key(run))
        await asyncio.to_thread(mirror.forget_run, ctx, run)
        return
    settled = await tracker.changed(ctx, run)  # not settled: the event of its patch follows
    write = mirror.due_write(ctx, run) if settled else None
    if write is not None:
        await asyncio.to_thread(mirror.mirror_run, ctx, run, write)
    if not runs.is_active(run.get("status") or {}):
        await runs.settle_terminal(ctx, run)


# -- OutputLifecycleJob ----------------------------------------------------------
@kopf.on.create(GROUP, VERSION, JOBS)
async def admit_job(body: kopf.Body, patch: kopf.Patch, memo: kopf.Memo, runtime: Any, **_: Any) -> None:
    async with _ctx(memo).admission_lock(str(body.metadata.namespace)):
        status = await asyncio.to_thread(lifecycle.admit, _ctx(memo), dict(body), runtime.total_seconds())
    patch.status.update(status)
    if status.get("reason") == "Duplicate":
        patch.metadata.labels[LABEL_DUPLICATE_OF] = status["jobId"]
    if status.get("kubernetesJob"):
        kopf.event(body, type="Normal", reason="WorkerJobCreated", message=status["message"])


@kopf.on.event(GROUP, VERSION, JOBS)
async def job_changed(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if event["type"] == "DELETED":
        _ctx(memo).start_deadlines.forget(runs.key(body))
        await asyncio.to_thread(workers.delete_worker_job, _ctx(memo), dict(body))
    elif body.status.get("jobId"):  # admitted: no thread hop delays an admission (they keep arrival order)
        await asyncio.to_thread(mirror.mirror_job, _ctx(memo), dict(body))
        await asyncio.to_thread(lifecycle.sync_duplicates, _ctx(memo), dict(body))
        await asyncio.to_thread(workers.lifecycle_job_changed, _ctx(memo), dict(body))


@kopf.on.event("batch", "v1", "jobs", labels={LABEL_LIFECYCLE_JOB_UID: kopf.PRESENT})
def kubernetes_job_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    lifecycle.follow_kubernetes_job(_ctx(memo), dict(body))


@kopf.on.event("", "v1", "pods", labels={LABEL_LIFECYCLE_JOB_UID: kopf.PRESENT})
def worker_pod_changed(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if event["type"] != "DELETED":
        workers.follow_worker_pod(_ctx(memo), dict(body))
