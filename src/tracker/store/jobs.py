"""Lifecycle job history: one row per OutputLifecycleJob, kept after the custom
resource is gone, so `tracker outputs job-status ID` works for old jobs."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tracker.domain.records import JobCounters, JobPhase, JobRecord, Operation
from tracker.store.dialects import insert
from tracker.store.models import LifecycleJob
from tracker.store.types import plain, utcnow

COUNTERS = tuple(f.name for f in fields(JobCounters))
_FIELDS = (
    "namespace",
    "name",
    "run",
    "run_id",
    "operation",
    "destination",
    "source",
    "requested_by",
    "dry_run",
    "phase",
    "reason",
    "message",
    "started_at",
    "completed_at",
    "kubernetes_job",
)
ACTIVE = (JobPhase.ENQUEUED.value, JobPhase.RUNNING.value)
MUTATING = tuple(op.value for op in Operation if op.mutating)


def upsert_job(session: Session, *, record: JobRecord) -> None:
    """Insert or update the job (by id) with everything the record carries."""
    now = utcnow()
    values: dict[str, Any] = {f: plain(getattr(record, f)) for f in _FIELDS}
    values.update({c: getattr(record.counters, c) for c in COUNTERS})
    values.update(requested_by_groups=list(record.requested_by_groups), updated_at=now)
    updates = dict(values, **({"created_at": record.created_at} if record.created_at else {}))
    session.execute(
        insert(session, LifecycleJob)
        .values(id=record.id, created_at=record.created_at or now, **values)
        .on_conflict_do_update(index_elements=[LifecycleJob.id], set_=updates)
    )


def get_job(session: Session, *, job_id: str) -> JobRecord | None:
    job = session.scalar(_jobs().where(LifecycleJob.id == job_id))
    return to_record(job) if job is not None else None


def list_jobs(
    session: Session,
    *,
    run_id: str | None = None,
    phase: str | None = None,
    operation: str | None = None,
    namespace: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[JobRecord], int]:
    """A page of jobs, newest first, and how many match in total."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    conditions = [
        column == plain(value)
        for column, value in (
            (LifecycleJob.run_id, run_id),
            (LifecycleJob.phase, phase),
            (LifecycleJob.operation, operation),
            (LifecycleJob.namespace, namespace),
        )
        if value is not None
    ]
    total = session.scalar(select(func.count()).select_from(LifecycleJob).where(*conditions))
    page = session.scalars(
        _jobs()
        .where(*conditions)
        .order_by(LifecycleJob.created_at.desc(), LifecycleJob.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [to_record(job) for job in page], total or 0


def active_mutating_job(session: Session, *, run_id: str) -> JobRecord | None:
    """The oldest Enqueued or Running job that changes the run's outputs, if any."""
    job = session.scalar(
        _jobs()
        .where(LifecycleJob.run_id == run_id, LifecycleJob.phase.in_(ACTIVE), LifecycleJob.operation.in_(MUTATING))
        .order_by(LifecycleJob.created_at, LifecycleJob.id)
        .limit(1)
    )
    return to_record(job) if job is not None else None


def _jobs() -> Select[LifecycleJob]:
    return select(LifecycleJob).execution_options(populate_existing=True)


def to_record(job: LifecycleJob) -> JobRecord:
    return JobRecord(
        id=job.id,
        created_at=job.created_at,
        requested_by_groups=tuple(job.requested_by_groups),
        counters=JobCounters(**{c: getattr(job, c) for c in COUNTERS}),
        **{f: getattr(job, f) for f in _FIELDS},
    )
