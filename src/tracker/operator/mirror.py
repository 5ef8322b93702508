"""Mirroring custom resources into the SQL index, on every watch event.

A heartbeat alone changes only `lastHeartbeatTime`; such events are written at most
every HEARTBEAT_WRITE_INTERVAL per run, and not one by one: they are queued on the
event loop (no thread hop) and `write_heartbeats` writes the queue in one statement
every HEARTBEAT_FLUSH_SECONDS, so 10,000 live runs are a write every few seconds.

A deleted run stays in the index, marked removed, and its run name is free: a
WorkflowRun re-created under it (a new run id) is mirrored as a new run. When the index
still holds a live run of that name whose resource is gone (the deletion happened
while no operator watched), that run is marked removed first; only two resources
alive at once under one run name are a `DuplicateRunName`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes import client

from tracker.domain import shards
from tracker.domain.records import JobPhase, RunRecord
from tracker.kube import convert
from tracker.kube.client import resource
from tracker.kube.resources import GROUP, RUNS, VERSION
from tracker.operator.context import OperatorContext
from tracker.store import jobs as job_rows
from tracker.store import journal
from tracker.store import runs as run_rows
from tracker.store.errors import DuplicateRunName

HEARTBEAT_WRITE_INTERVAL = 30.0
HEARTBEAT_FLUSH_SECONDS = 5.0
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RunWrite:
    """An index write of a run that an event calls for: its record, the record less
    its heartbeat, and what was written for the run before (None: nothing yet)."""

    record: RunRecord
    essence: RunRecord
    previous: tuple[Any, float] | None


def due_write(ctx: OperatorContext, body: Mapping[str, Any]) -> RunWrite | None:
    """The write `mirror_run` is to make for this event (decided on the event loop);
    None when there is none. A change of the heartbeat alone, when due, is queued for
    `write_heartbeats` instead."""
    if not (body.get("status") or {}).get("id"):
        return None  # the tracker assigns the id first; its patch brings another event
    record = convert.run_record(body)
    essence = dataclasses.replace(record, last_heartbeat_at=None)
    key = (record.namespace, record.name)
    previous = ctx.mirrored.get(key)
    if previous is None or previous[0] != essence:
        return RunWrite(record, essence, previous)
    now = time.monotonic()
    if now - previous[1] >= HEARTBEAT_WRITE_INTERVAL:
        if record.last_heartbeat_at is not None:
            ctx.heartbeats[record.id] = record.last_heartbeat_at
        ctx.mirrored[key] = (essence, now)
    return None


async def write_heartbeats(ctx: OperatorContext) -> None:
    """Until cancelled: the queued heartbeats, in one transaction every HEARTBEAT_FLUSH_SECONDS."""
    while True:
        await asyncio.sleep(HEARTBEAT_FLUSH_SECONDS)
        batch, ctx.heartbeats = ctx.heartbeats, {}
        if not batch:
            continue
        try:
            await asyncio.to_thread(_record_heartbeats, ctx, batch)
        except Exception:
            log.exception("writing %d heartbeats to the index; trying again", len(batch))
            ctx.heartbeats = {**batch, **ctx.heartbeats}


def _record_heartbeats(ctx: OperatorContext, batch: dict[str, datetime]) -> None:
    with ctx.sessions.begin() as session:
        run_rows.record_heartbeats(session, heartbeats=batch)


def mirror_run(ctx: OperatorContext, body: dict[str, Any], write: RunWrite) -> None:
    """Make the write `due_write` decided on (in a thread: it is the index's I/O)."""
    record, previous = write.record, write.previous
    key = (record.namespace, record.name)
    now = time.monotonic()
    try:
        _upsert(ctx, record)
    except DuplicateRunName as error:
        if previous is None or previous[0] != "duplicate":
            # kopf takes a raw body as well as its Body view (it reads apiVersion, kind and metadata)
            kopf.event(
                body,  # type: ignore[arg-type]
                type="Warning",
                reason="DuplicateRunName",
                message=f"not indexed: {error} (run names are unique per namespace, in the index too)",
            )
        ctx.mirrored[key] = ("duplicate", now)
        return
    ctx.mirrored[key] = (write.essence, now)


def _upsert(ctx: OperatorContext, record: Any) -> None:
    try:
        with ctx.sessions.begin() as session:
            run_rows.upsert_run(session, record=record)
    except DuplicateRunName as error:
        if _resource_exists(ctx, record.namespace, record.run_name, error.existing_id):
            raise
        with ctx.sessions.begin() as session:
            run_rows.mark_run_removed(session, run_id=error.existing_id, at=datetime.now(UTC))
            run_rows.upsert_run(session, record=record)


def _resource_exists(ctx: OperatorContext, namespace: str, run_name: str, run_id: str) -> bool:
    """Whether a WorkflowRun with that run name and run id still exists."""
    items = resource(client.CustomObjectsApi(ctx.api).list_namespaced_custom_object(GROUP, VERSION, namespace, RUNS))[
        "items"
    ]
    return any(
        (r.get("spec") or {}).get("runName") == run_name and (r.get("status") or {}).get("id") == run_id for r in items
    )


def forget_run(ctx: OperatorContext, body: dict[str, Any]) -> None:
    """The resource is gone: its rows stay in the index, marked removed."""
    metadata: dict[str, Any] = body.get("metadata") or {}
    ctx.mirrored.pop((metadata.get("namespace", ""), metadata.get("name", "")), None)
    run_id = (body.get("status") or {}).get("id")
    if run_id:
        with ctx.sessions.begin() as session:
            run_rows.mark_run_removed(session, run_id=run_id, at=datetime.now(UTC))


def mirror_job(ctx: OperatorContext, body: dict[str, Any]) -> None:
    status = body.get("status") or {}
    if not status.get("jobId") or status.get("reason") == "Duplicate":
        return  # a duplicate carries the id of the job it resolved to, whose row that is
    record = convert.job_record(body)
    with ctx.sessions.begin() as session:
        job_rows.upsert_job(session, record=record)
        if JobPhase(record.phase).finished:
            journal.forget(session, job_id=record.id)
            for shard in range(int(status.get("shardCount") or 0)):
                journal.forget(session, job_id=shards.journal_id(record.id, shard))
