"""Reading output rows: which runs published a URL, multi-word search, directory
listings, and the prefix fence (other runs' outputs under a prefix).

Substring matching is literal and ignores ASCII case (see `textsearch`); prefix
matching is literal and case-sensitive, as S3 keys are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from tracker.domain.fence import Fence
from tracker.domain.records import OutputObject, RunRecord
from tracker.store.dialects import dialect_of, position
from tracker.store.errors import RunNotFound
from tracker.store.models import Base, Output, Run
from tracker.store.outputsearch import matching_rows
from tracker.store.results import Listing, OutputDirectory, OutputFile, OutputMatch
from tracker.store.runlookup import newest_matching_run_ids
from tracker.store.runs import select_records, to_records
from tracker.store.textsearch import (
    under_prefix,
    usable_words,
)

outputs = Base.metadata.tables[Output.__tablename__]
_OBJECT = (outputs.c.url, outputs.c.size, outputs.c.last_modified, outputs.c.etag, outputs.c.storage_class)


def lookup_runs_by_url(session: Session, *, text: str, limit: int = 100) -> list[RunRecord]:
    """Runs with an output URL containing `text` (ignoring ASCII case), or whose
    output_dir contains it or holds it (so a URL or prefix finds its run before any
    row is indexed). Newest first. The plans: `runlookup`."""
    if not text:
        raise ValueError("give a URL or part of one to look up")
    if limit < 0:
        raise ValueError("limit must not be negative")
    if "\x00" in text:
        return []
    ids = newest_matching_run_ids(session, dialect_of(session), text, limit)
    if not ids:
        return []
    stmt = select_records().where(Run.id.in_(ids)).order_by(Run.created_at.desc(), Run.id)
    return to_records(session, session.execute(stmt).all())


def search_outputs(
    session: Session,
    *,
    words: Sequence[str],
    run_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
    count_limit: int | None = None,
) -> tuple[list[OutputMatch], int]:
    """Output rows whose URL contains every word (ignoring ASCII case), ordered by
    URL, with their run; and how many match in total, counted up to `count_limit`
    when given (a total equal to it means at least that many). The plans: `outputsearch`."""
    words = usable_words(words)
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    if count_limit is not None and count_limit < 1:
        raise ValueError("count_limit must be positive")
    if any("\x00" in word for word in words):
        return [], 0
    ids, total = matching_rows(
        session, dialect_of(session), words, run_id=run_id, limit=limit, offset=offset, count_limit=count_limit
    )
    if not ids:
        return [], total
    page = (
        select(outputs.c.run_id, Run.run_name, outputs.c.deleted_at, *_OBJECT)
        .select_from(outputs)
        .join(Run, Run.id == outputs.c.run_id)
        .where(outputs.c.id.in_(ids))
        .order_by(outputs.c.url, outputs.c.id)
    )
    return [OutputMatch(r.run_id, r.run_name, _object(r), r.deleted_at) for r in session.execute(page)], total


def browse_outputs(session: Session, *, run_id: str, directory: str = "", limit: int | None = None) -> Listing:
    """One level of the run's outputs below `output_dir + directory` (a literal key
    prefix; a missing trailing `/` is added): subdirectories with totals, then files."""
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    output_dir = session.execute(select(Run.output_dir).where(Run.id == run_id)).one_or_none()
    if output_dir is None:
        raise RunNotFound(run_id)
    if not output_dir[0]:
        return Listing([], [])
    prefix = output_dir[0] + directory + ("/" if directory and not directory.endswith("/") else "")
    dialect = dialect_of(session)
    rest = func.substr(outputs.c.url, len(prefix) + 1)
    slash = position(dialect, "/", rest)
    here = [outputs.c.run_id == run_id, *under_prefix(outputs.c.url, prefix)]
    below = (
        select(func.substr(rest, 1, slash).label("name"), outputs.c.size, outputs.c.deleted_at)
        .where(*here, slash > 0)
        .subquery()
    )
    deleted = func.sum(case((below.c.deleted_at.is_not(None), 1), else_=0))
    directories = session.execute(
        select(below.c.name, func.count(), func.sum(below.c.size), deleted)
        .group_by(below.c.name)
        .order_by(below.c.name)
    )
    files = session.execute(
        select(outputs.c.deleted_at, *_OBJECT).where(*here, slash == 0).order_by(outputs.c.url).limit(limit)
    )
    return Listing(
        [OutputDirectory(name, count, int(size or 0), int(gone or 0)) for name, count, size, gone in directories],
        [OutputFile(_object(r), r.deleted_at) for r in files],
    )


def runs_with_outputs_under(session: Session, *, prefix: str, exclude_run_id: str) -> list[RunRecord]:
    """Runs other than `exclude_run_id` that have non-deleted rows inside the prefix
    fence of `prefix` (`tracker.domain.fence`), or whose output_dir (outputs not
    deleted) lies under or over it: deleting or moving `prefix` would touch their
    outputs. Raises `InvalidS3Url` when `prefix` is not an S3 prefix."""
    fence = Fence.of_text(prefix)
    low, _ = fence.text_bounds()
    dialect = dialect_of(session)
    others = select(outputs.c.run_id).where(
        *under_prefix(outputs.c.url, low),
        outputs.c.deleted_at.is_(None),
        outputs.c.run_id != exclude_run_id,
    )
    value = literal(low).collate("C") if dialect == "postgresql" else literal(low)
    overlapping = and_(
        Run.outputs_deleted_at.is_(None),
        func.length(Run.output_dir) > 0,
        or_(
            func.substr(Run.output_dir, 1, len(low)) == low,
            func.substr(value, 1, func.length(Run.output_dir)) == Run.output_dir,
        ),
    )
    stmt = (
        select_records()
        .where(Run.id != exclude_run_id, or_(Run.id.in_(others), overlapping))
        .order_by(Run.created_at, Run.id)
    )
    return to_records(session, session.execute(stmt).all())


def _object(row: Any) -> OutputObject:
    return OutputObject(
        url=row.url, size=row.size, last_modified=row.last_modified, etag=row.etag, storage_class=row.storage_class
    )
