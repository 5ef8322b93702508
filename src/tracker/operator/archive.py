"""The run archiver: one periodic pass of the operator that removes the custom
resources of runs finished long ago (`archive.after_seconds`), with their finished
lifecycle jobs; the index keeps every row (`runs.archived_at` says why the resource is
gone).

Each pass asks the index for due runs in batches (`tracker.store.archive.candidates`:
one query per batch, nothing held between passes, so memory does not grow with the
archive). Per namespace of a batch, under that namespace's admission lock (no job is
admitted meanwhile), it lists the namespace's lifecycle jobs once, leaves the runs an
unfinished job names, marks the others archived, deletes their finished jobs and the
runs (only the resource that is still that run: its uid as a precondition), and marks
them removed. A run reported to the index only (no WorkflowRun ever) is marked
archived and removed with nothing to delete. Every step is idempotent: a pass that
crashes half-way leaves runs still live in the index, and the next pass archives them
(a 404 is done); so two replicas passing at once (kopf peering pauses handlers, not
this task) archive each run once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tracker.domain.archive import Candidate, blocked_runs, finished_jobs
from tracker.kube.client import resource
from tracker.kube.resources import GROUP, JOBS, RUNS, VERSION
from tracker.operator.context import OperatorContext
from tracker.store import archive as archive_rows

log = logging.getLogger(__name__)


async def run(ctx: OperatorContext) -> None:
    """Until cancelled: a pass every `archive.interval_seconds` (none when archiving is off)."""
    settings = ctx.settings.archive
    if settings.after_seconds <= 0:
        return
    while True:
        try:
            archived = await archive_pass(ctx)
            if archived:
                log.info("archived %d finished runs", archived)
        except Exception:
            log.exception("archive pass failed; the next pass tries again")
        await asyncio.sleep(settings.interval_seconds)


async def archive_pass(ctx: OperatorContext, now: datetime | None = None) -> int:
    """Archive every run due at `now`, a batch at a time. Returns runs archived."""
    now = now or datetime.now(UTC)
    skipped: set[str] = set()
    archived = 0
    while True:
        batch = await asyncio.to_thread(_candidates, ctx, now, frozenset(skipped))
        if not batch:
            return archived
        for namespace in sorted({c.namespace for c in batch}):
            in_namespace = [c for c in batch if c.namespace == namespace]
            async with ctx.admission_lock(namespace):
                done = await asyncio.to_thread(archive_namespace, ctx, namespace, in_namespace)
            archived += len(done)
            skipped |= {c.id for c in in_namespace} - done


def _candidates(ctx: OperatorContext, now: datetime, skipped: frozenset[str]) -> list[Candidate]:
    settings = ctx.settings.archive
    with ctx.sessions.begin() as session:
        return archive_rows.candidates(
            session, now=now, after_seconds=settings.after_seconds, limit=settings.batch, exclude=skipped
        )


def archive_namespace(ctx: OperatorContext, namespace: str, batch: Sequence[Candidate]) -> set[str]:
    """Archive the batch's runs of one namespace; returns the ids archived."""
    custom = client.CustomObjectsApi(ctx.api)
    jobs = resource(custom.list_namespaced_custom_object(GROUP, VERSION, namespace, JOBS))["items"]
    blocked = blocked_runs(batch, jobs)
    due = [c for c in batch if c.id not in blocked]
    if not due:
        return set()
    with ctx.sessions.begin() as session:
        archive_rows.mark_archived(session, run_ids=[c.id for c in due], at=datetime.now(UTC))
    for _, name in finished_jobs(due, jobs):
        _delete(custom, namespace, JOBS, name)
    gone = {c.id for c in due if _delete_run(custom, c)}
    with ctx.sessions.begin() as session:
        archive_rows.mark_removed(session, run_ids=list(gone), at=datetime.now(UTC))
    return gone


def _delete_run(custom: client.CustomObjectsApi, candidate: Candidate) -> bool:
    """Delete the candidate's WorkflowRun, only if the resource of that name is still
    this run (its uid as a precondition); True when no resource of this run is left.
    A run reported to the index only (no WorkflowRun) has nothing to delete."""
    try:
        current = resource(
            custom.get_namespaced_custom_object(GROUP, VERSION, candidate.namespace, RUNS, candidate.name)
        )
    except ApiException as error:
        if error.status == 404:
            return True
        raise
    if (current.get("status") or {}).get("id") != candidate.id:
        return True  # the name now belongs to another run: this one's resource is gone
    options = client.V1DeleteOptions(
        propagation_policy="Background", preconditions=client.V1Preconditions(uid=current["metadata"]["uid"])
    )
    try:
        custom.delete_namespaced_custom_object(GROUP, VERSION, candidate.namespace, RUNS, candidate.name, body=options)
    except ApiException as error:
        if error.status == 409:
            return False  # replaced meanwhile: looked at again next pass
        if error.status != 404:
            raise
    return True


def _delete(custom: client.CustomObjectsApi, namespace: str, plural: str, name: str) -> None:
    try:
        custom.delete_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, name, body=client.V1DeleteOptions(propagation_policy="Background")
        )
    except ApiException as error:
        if error.status != 404:  # already gone: a pass that crashed after deleting it
            raise
