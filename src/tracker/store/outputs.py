"""Writing a run's output rows: bulk upsert from an S3 listing, the summary, marking
deleted, and rewriting paths after a move. Reads (lookup, search, browse, the prefix
fence) live in `tracker.store.lookup` and are re-exported here.

Rows are never removed: a deleted object keeps its row with `deleted_at` set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice

from sqlalchemy import ColumnElement, bindparam, case, func, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.domain.records import OutputObject, OutputsSummary
from tracker.store.dialects import dialect_of
from tracker.store.errors import OutputConflict, RunNotFound
from tracker.store.lookup import (
    browse_outputs,
    lookup_runs_by_url,
    runs_with_outputs_under,
    search_outputs,
)
from tracker.store.models import Base, Output, Run
from tracker.store.textsearch import under_prefix
from tracker.store.types import UTCDateTime, rowcount, utcnow

__all__ = [
    "browse_outputs",
    "lookup_runs_by_url",
    "mark_missing_outputs_deleted",
    "mark_outputs_deleted",
    "refresh_outputs_summary",
    "rewrite_output_paths",
    "runs_with_outputs_under",
    "search_outputs",
    "upsert_outputs",
]

outputs = Base.metadata.tables[Output.__tablename__]
runs = Base.metadata.tables[Run.__tablename__]


def upsert_outputs(
    session: Session,
    *,
    run_id: str,
    objects: Iterable[OutputObject],
    batch_size: int = 1000,
    seen_at: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Insert or update one row per object (keyed by run and URL), `batch_size` rows per
    statement, consuming `objects` lazily. An object seen again is no longer deleted.
    `on_batch(total_so_far)` runs after each batch: a place to commit and report.
    Returns the number of objects written."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    _require_run(session, run_id)
    write = _write_sqlite if dialect_of(session) == "sqlite" else _write_postgresql
    seen, iterator, total = seen_at or utcnow(), iter(objects), 0
    while batch := list(islice(iterator, batch_size)):
        write(session, run_id, seen, list({o.url: o for o in batch}.values()))  # last one wins
        total += len(batch)
        if on_batch is not None:
            on_batch(total)
    return total


def refresh_outputs_summary(session: Session, *, run_id: str, indexed_at: datetime) -> OutputsSummary:
    """Write the count and bytes of the run's non-deleted rows to the run."""
    _require_run(session, run_id)
    count, size = session.execute(
        select(func.count(), func.coalesce(func.sum(outputs.c.size), 0)).where(
            outputs.c.run_id == run_id, outputs.c.deleted_at.is_(None)
        )
    ).one()
    session.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(outputs_count=count, outputs_bytes=size, outputs_indexed_at=indexed_at)
    )
    return _summary(session, run_id)


def mark_outputs_deleted(session: Session, *, run_id: str, at: datetime, by: str) -> int:
    """Mark every row of the run deleted and set the run's deletedAt/deletedBy (the
    first deletion's, when repeated). Count and bytes become 0. Returns rows newly
    marked, so a repeat returns 0."""
    _require_run(session, run_id)
    marked = rowcount(
        session.execute(
            update(outputs).where(outputs.c.run_id == run_id, outputs.c.deleted_at.is_(None)).values(deleted_at=at)
        )
    )
    first = runs.c.outputs_deleted_at.is_(None)
    session.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .values(
            outputs_deleted_at=func.coalesce(runs.c.outputs_deleted_at, at),
            outputs_deleted_by=case((first, by), else_=runs.c.outputs_deleted_by),
            outputs_count=0,
            outputs_bytes=0,
        )
    )
    return marked


def mark_missing_outputs_deleted(session: Session, *, run_id: str, seen_before: datetime, at: datetime) -> int:
    """After a full re-index that started at `seen_before`: mark deleted the rows whose
    object was not listed again. Returns rows newly marked."""
    return rowcount(
        session.execute(
            update(outputs)
            .where(
                outputs.c.run_id == run_id,
                outputs.c.deleted_at.is_(None),
                (outputs.c.seen_at.is_(None)) | (outputs.c.seen_at < seen_before),
            )
            .values(deleted_at=at)
        )
    )


def rewrite_output_paths(session: Session, *, run_id: str, old_prefix: str, new_prefix: str) -> int:
    """Replace `old_prefix` by `new_prefix` in every row of the run whose URL starts
    with `old_prefix` (literally), and set the run's output_dir to `new_prefix`.
    Returns the number of rows rewritten; running it again rewrites none."""
    if not old_prefix or not new_prefix:
        raise ValueError("both prefixes must be non-empty")
    _require_run(session, run_id)
    new_url: ColumnElement[str] = literal(new_prefix)
    if dialect_of(session) == "postgresql":
        new_url = new_url.collate("C")
    try:
        with session.begin_nested():
            rewritten = rowcount(
                session.execute(
                    update(outputs)
                    .where(outputs.c.run_id == run_id, *under_prefix(outputs.c.url, old_prefix))
                    .values(url=new_url + func.substr(outputs.c.url, len(old_prefix) + 1))
                )
            )
    except IntegrityError as error:
        raise OutputConflict(
            f"run {run_id} already has rows under {new_prefix} for some of the rows under "
            f"{old_prefix}: nothing was rewritten"
        ) from error
    session.execute(update(runs).where(runs.c.id == run_id).values(output_dir=new_prefix))
    return rewritten


# Bulk upsert, one statement per batch (SQLite's FTS5 triggers then flush once per
# batch, not once per row). Building the statement with SQLAlchemy per batch costs more
# than running it, so: SQLite gets plain SQL text per batch size (cached), PostgreSQL
# a constant statement whose rows travel as one JSON array.
_COLUMNS = "INSERT INTO outputs (run_id, url, size, last_modified, etag, storage_class, seen_at)"
_ON_CONFLICT = """ON CONFLICT (run_id, url) DO UPDATE SET size = excluded.size,
 last_modified = excluded.last_modified, etag = excluded.etag,
 storage_class = excluded.storage_class, seen_at = excluded.seen_at, deleted_at = NULL"""
# The f-string joins the module's own constants above; every value travels as a bound parameter.
_UPSERT_JSON = text(
    f"""{_COLUMNS} SELECT :run_id, e->>0, (e->>1)::bigint, (e->>2)::timestamptz,
 e->>3, e->>4, :seen_at FROM json_array_elements(CAST(:rows AS json)) AS e {_ON_CONFLICT}""",  # noqa: S608
).bindparams(bindparam("seen_at", type_=UTCDateTime()))


@lru_cache(maxsize=8)
def _upsert_values_sql(rows: int) -> str:
    return f"{_COLUMNS} VALUES {', '.join(['(?, ?, ?, ?, ?, ?, ?)'] * rows)} {_ON_CONFLICT}"


def _write_sqlite(session: Session, run_id: str, seen: datetime, batch: list[OutputObject]) -> None:
    stamp = _sqlite_timestamp
    params = [
        value
        for o in batch
        for value in (run_id, o.url, o.size, stamp(o.last_modified), o.etag, o.storage_class, stamp(seen))
    ]
    session.connection().exec_driver_sql(_upsert_values_sql(len(batch)), tuple(params))


def _write_postgresql(session: Session, run_id: str, seen: datetime, batch: list[OutputObject]) -> None:
    rows = [
        [o.url, o.size, o.last_modified and _utc(o.last_modified).isoformat() + "Z", o.etag, o.storage_class]
        for o in batch
    ]
    session.execute(_UPSERT_JSON, {"run_id": run_id, "seen_at": seen, "rows": json.dumps(rows)})


def _sqlite_timestamp(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DATETIME stores (naive UTC, microseconds)."""
    return None if value is None else _utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware datetime")
    return value.astimezone(UTC).replace(tzinfo=None)


def _require_run(session: Session, run_id: str) -> None:
    if session.scalar(select(runs.c.id).where(runs.c.id == run_id)) is None:
        raise RunNotFound(run_id)


def _summary(session: Session, run_id: str) -> OutputsSummary:
    r = session.execute(
        select(
            runs.c.outputs_count,
            runs.c.outputs_bytes,
            runs.c.outputs_indexed_at,
            runs.c.outputs_deleted_at,
            runs.c.outputs_deleted_by,
        ).where(runs.c.id == run_id)
    ).one()
    return OutputsSummary(
        r.outputs_count, r.outputs_bytes, r.outputs_indexed_at, r.outputs_deleted_at, r.outputs_deleted_by
    )
