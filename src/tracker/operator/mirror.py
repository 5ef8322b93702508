"""Mirroring custom resources into the SQL index, on every watch event.

A heartbeat alone changes only `lastHeartbeatTime`; such events are written at most
every HEARTBEAT_WRITE_INTERVAL per run, so thousands of live runs do not turn into
thousands of writes a second.

A deleted run stays in the index, marked removed, and its run name is free: a
WorkflowRun re-created under it (a new run id) is mirrored as a new run. When the index
still holds a live run of that name whose resource is gone (the deletion happened
while no operator watched), that run is marked removed first; only two resources
alive at once under one run name are a `DuplicateRunName`.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes import client

from tracker.domain import shards
from tracker.domain.records import JobPhase
from tracker.kube import convert
from tracker.kube.client import resource
from tracker.kube.resources import GROUP, RUNS, VERSION
from tracker.operator.context import OperatorContext
from tracker.store import jobs as job_rows
from tracker.store import journal
from tracker.store import runs as run_rows
from tracker.store.errors import DuplicateRunName

HEARTBEAT_WRITE_INTERVAL = 30.0


def mirror_run(ctx: OperatorContext, body: dict[str, Any]) -> None:
    if not (body.get("status") or {}).get("id"):
        return  # the supervisor assigns the id first; its patch brings another event
    record = convert.run_record(body)
    key = (record.namespace, record.name)
    essence = dataclasses.replace(record, last_heartbeat_at=None)
    previous = ctx.mirrored.get(key)
    now = time.monotonic()
    if previous and previous[0] == essence and now - previous[1] < HEARTBEAT_WRITE_INTERVAL:
        return
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
    ctx.mirrored[key] = (essence, now)


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
