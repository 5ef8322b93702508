"""What the index knows about a run's files: the log file its runner reported (kept
in the trace receiver's `reported`, newest execution first), a task's work dir, and
which of a set of URLs are the run's indexed (not deleted) outputs, with their sizes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.store.models import Output, TraceWorkflow

LOG_FILE = "logFile"  # the key in `reported`


def reported_log_file(session: Session, *, run_id: str) -> str | None:
    """The log file the newest execution of the run reported, if any did."""
    rows = session.execute(
        select(TraceWorkflow.reported).where(TraceWorkflow.run_id == run_id).order_by(TraceWorkflow.created_at.desc())
    )
    for (reported,) in rows:
        value = (reported or {}).get(LOG_FILE)
        if isinstance(value, str) and value:
            return value
    return None


def indexed_version(session: Session, *, run_id: str, url: str) -> tuple[int, str | None] | None:
    """The size and ETag of one indexed, not deleted, output of the run; None if it is not one."""
    row = session.execute(
        select(Output.size, Output.etag).where(Output.run_id == run_id, Output.url == url, Output.deleted_at.is_(None))
    ).first()
    return (int(row[0]), row[1]) if row is not None else None


def indexed_sizes(session: Session, *, run_id: str, urls: Iterable[str]) -> dict[str, int]:
    """URL -> size of those `urls` that are the run's indexed, not deleted, outputs."""
    wanted = sorted(set(urls))
    if not wanted:
        return {}
    rows = session.execute(
        select(Output.url, Output.size).where(
            Output.run_id == run_id, Output.url.in_(wanted), Output.deleted_at.is_(None)
        )
    )
    return {url: int(size) for url, size in rows}
