"""Task attempts in the index: a batched upsert (one cached statement per batch, in
the caller's transaction) and filtered, searched, sorted, paginated queries.

Rows are keyed by run id, execution and task id; a later report of the same attempt
replaces the earlier one (runners send a task's latest state).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from tracker.domain.tasks import TASK_FIELDS, TaskRecord, TaskStatus
from tracker.store.dialects import insert_for
from tracker.store.models import Task
from tracker.store.textsearch import ESCAPE, escape_like
from tracker.store.types import plain, utcnow

MAX_BATCH = 100
SORT_KEYS = (
    "task_id",
    "submitted_at",
    "started_at",
    "completed_at",
    "duration_ms",
    "realtime_ms",
    "process",
    "name",
    "status",
    "attempt",
    "exit_code",
    "pcpu",
    "peak_rss",
    "updated_at",
    "cpus",
    "memory_bytes",
    "read_bytes",
    "write_bytes",
)
MAX_SEARCH = 200  # characters of a search; a longer one is refused
SEARCHED = ("name", "tag", "hash")
_KEY = ("run_id", "execution", "task_id")


def upsert_tasks(session: Session, *, run_id: str, tasks: Sequence[TaskRecord]) -> None:
    """Insert or replace up to MAX_BATCH attempts of one run, in one statement."""
    if len(tasks) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} tasks per batch, got {len(tasks)}")
    latest = {(t.execution, t.task_id): t for t in tasks}  # one row per key in one statement
    if not latest:
        return
    connection = session.connection()
    upsert = _upsert(connection.dialect)
    connection.exec_driver_sql(upsert.sql, upsert.rows(latest.values(), run_id=run_id, now=utcnow()))


_COLUMNS = (*TASK_FIELDS, "run_id", "updated_at")  # a row's values, in this order
_values = attrgetter(*TASK_FIELDS)
_STATUS = TASK_FIELDS.index("status")


class _Upsert:
    """The upsert statement compiled once for a dialect, and its parameters' bind
    processors. One executemany of it per batch; handing the rows to the driver
    already processed skips SQLAlchemy's per-parameter bookkeeping, which costs more
    than the statement itself."""

    def __init__(self, dialect: Dialect) -> None:
        statement = insert_for(dialect.name, Task.__table__)
        updates = {c: statement.excluded[c] for c in _COLUMNS if c not in _KEY}
        compiled = statement.on_conflict_do_update(index_elements=list(_KEY), set_=updates).compile(dialect=dialect)
        self.sql = compiled.string
        self._positional = compiled.positional
        self._names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
        self._order = [_COLUMNS.index(name) for name in self._names]
        columns = Task.__table__.columns
        processors = [columns[name].type.dialect_impl(dialect).bind_processor(dialect) for name in _COLUMNS]
        self._processors: list[tuple[int, Callable[[Any], Any]]] = [
            (i, p) for i, p in enumerate(processors[:-1]) if p is not None
        ]
        self._stamp: Callable[[Any], Any] = processors[-1] or (lambda value: value)  # updated_at: once per batch

    def rows(self, tasks: Iterable[TaskRecord], *, run_id: str, now: datetime) -> list[Any]:
        stamp, rows = self._stamp(now), []
        for task in tasks:
            values = [*_values(task), run_id, stamp]
            values[_STATUS] = plain(values[_STATUS])
            for index, process in self._processors:
                values[index] = process(values[index])
            ordered = [values[i] for i in self._order]
            rows.append(tuple(ordered) if self._positional else dict(zip(self._names, ordered, strict=True)))
        return rows


@cache
def _upsert(dialect: Dialect) -> _Upsert:
    return _Upsert(dialect)


def list_tasks(
    session: Session,
    *,
    run_id: str,
    process: str | None = None,
    status: str | Collection[str] | None = None,
    execution: str | None = None,
    search: str | None = None,
    sort: str = "task_id",
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[TaskRecord], int]:
    """A page of the run's attempts matching the filters, and how many match.
    `search` is a literal substring (ASCII case ignored) of the name, tag or hash."""
    key = sort.removeprefix("-")
    if key not in SORT_KEYS:
        raise ValueError(f"cannot sort by {sort!r}: use one of {', '.join(SORT_KEYS)} (prefix '-' for descending)")
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    conditions: list[Any] = [Task.run_id == run_id]
    if process is not None:
        conditions.append(Task.process == process)
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        unknown = [s for s in statuses if s not in TaskStatus.__members__]
        if unknown:
            raise ValueError(f"unknown task status {unknown[0]!r}: use one of {', '.join(TaskStatus)}")
        conditions.append(Task.status.in_(statuses))
    if execution is not None:
        conditions.append(Task.execution == execution)
    needle = (search or "").strip()
    if needle:
        conditions.append(matches(session.get_bind().dialect.name, needle))
    descending = sort.startswith("-")
    column = getattr(Task, key)
    order = [
        (column.desc() if descending else column.asc()).nulls_last(),
        Task.execution.asc(),
        Task.task_id.desc() if descending else Task.task_id.asc(),
    ]
    total = session.scalar(select(func.count()).select_from(Task).where(*conditions)) or 0
    page = session.scalars(select(Task).where(*conditions).order_by(*order).limit(limit).offset(offset))
    return [to_record(row) for row in page], total


def matches(dialect: str, needle: str) -> ColumnElement[bool]:
    """The attempt's name, tag or hash contains `needle` literally (`%`, `_` and `\\`
    are plain characters), ignoring ASCII case the same on both engines: SQLite's
    LIKE, PostgreSQL's ILIKE on `COLLATE "C"` text."""
    if len(needle) > MAX_SEARCH:
        raise ValueError(f"a search is at most {MAX_SEARCH} characters, got {len(needle)}")
    pattern = f"%{escape_like(needle)}%"
    columns = [getattr(Task, name) for name in SEARCHED]
    if dialect == "postgresql":
        return or_(*(c.collate("C").ilike(pattern, escape=ESCAPE) for c in columns))
    return or_(*(c.like(pattern, escape=ESCAPE) for c in columns))


TIMELINE_FIELDS = (
    "execution",
    "task_id",
    "status",
    "name",
    "process",
    "attempt",
    "submitted_at",
    "started_at",
    "completed_at",
)


def list_task_spans(session: Session, *, run_id: str, limit: int) -> tuple[list[TaskRecord], int]:
    """Up to `limit` of the run's attempts with only what the timeline draws (name,
    process, status, attempt and times; other fields left unset), by task id, and how
    many the run has."""
    total = session.scalar(select(func.count()).select_from(Task).where(Task.run_id == run_id)) or 0
    columns = [getattr(Task, f) for f in TIMELINE_FIELDS]
    query = select(*columns).where(Task.run_id == run_id).order_by(Task.execution, Task.task_id).limit(limit)
    found = [
        TaskRecord(**dict(zip(TIMELINE_FIELDS, row, strict=True)) | {"status": TaskStatus(row.status)})
        for row in session.execute(query)
    ]
    return found, total


def get_task(session: Session, *, run_id: str, task_id: int, execution: str | None = None) -> TaskRecord | None:
    """One attempt by task id: of `execution`, or of the latest execution that has it."""
    query = select(Task).where(Task.run_id == run_id, Task.task_id == task_id)
    if execution is not None:
        query = query.where(Task.execution == execution)
    row = session.scalars(query.order_by(Task.updated_at.desc(), Task.execution.desc()).limit(1)).first()
    return to_record(row) if row is not None else None


def to_record(row: Task) -> TaskRecord:
    values = {f: getattr(row, f) for f in TASK_FIELDS}
    values["status"] = TaskStatus(values["status"])
    return TaskRecord(**values)
