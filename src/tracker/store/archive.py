"""The archiver's index side: the runs due for archiving, in one query, and marking
them archived and removed.

`candidates` is the rule of `tracker.domain.archive` in SQL: live runs (the partial
index `ix_runs_live_completed_at` holds only those, so the archive's size does not
slow it), terminal, finished before the cutoff, with no Enqueued or Running job in the
index; oldest first, at most `limit`. Marking is idempotent: `mark_archived` keeps the
first archiving time, `mark_removed` the first removal.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from tracker.domain.archive import TERMINAL_PHASES, Candidate, cutoff
from tracker.store.jobs import ACTIVE
from tracker.store.models import LifecycleJob, Run
from tracker.store.types import rowcount


def candidates(
    session: Session, *, now: datetime, after_seconds: int, limit: int, exclude: Collection[str] = ()
) -> list[Candidate]:
    """Up to `limit` runs due for archiving at `now`, oldest first (none when off)."""
    if after_seconds <= 0 or limit <= 0:
        return []
    before = cutoff(now, after_seconds)
    active_job = exists().where(LifecycleJob.run_id == Run.id, LifecycleJob.phase.in_(ACTIVE))
    stmt = (
        select(Run.id, Run.namespace, Run.name, Run.run_name)
        .where(
            Run.removed_at.is_(None),
            Run.phase.in_(TERMINAL_PHASES),
            or_(Run.completed_at <= before, and_(Run.completed_at.is_(None), Run.updated_at <= before)),
            ~active_job,
        )
        .order_by(Run.completed_at.asc().nulls_first(), Run.id)
        .limit(limit)
    )
    if exclude:
        stmt = stmt.where(Run.id.not_in(list(exclude)))
    return [Candidate(r.id, r.namespace, r.name, r.run_name) for r in session.execute(stmt)]


def mark_archived(session: Session, *, run_ids: Collection[str], at: datetime) -> int:
    """Record that the archiver is removing these runs' resources (before it deletes
    them, so a removal it causes is never taken for a user's). Returns runs marked now."""
    if not run_ids:
        return 0
    stmt = update(Run).where(Run.id.in_(list(run_ids)), Run.archived_at.is_(None)).values(archived_at=at)
    return rowcount(session.execute(stmt))


def mark_removed(session: Session, *, run_ids: Collection[str], at: datetime) -> int:
    """Record that these runs' resources are gone (their names are free). Returns runs marked now."""
    if not run_ids:
        return 0
    stmt = update(Run).where(Run.id.in_(list(run_ids)), Run.removed_at.is_(None)).values(removed_at=at)
    return rowcount(session.execute(stmt))
