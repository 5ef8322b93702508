"""Task attempts in the index: a batched upsert (one cached statement per batch, in
the caller's transaction) and filtered, sorted, paginated queries.

Rows are keyed by run id, execution and task id; a later report of the same attempt
replaces the earlier one (runners send a task's latest state).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import cache
from operator import attrgetter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.domain.tasks import TASK_FIELDS, TaskRecord, TaskStatus
from tracker.store.dialects import dialect_of, insert_for
from tracker.store.models import Task
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
)
_KEY = ("run_id", "execution", "task_id")


def upsert_tasks(session: Session, *, run_id: str, tasks: Sequence[TaskRecord]) -> None:
    """Insert or replace up to MAX_BATCH attempts of one run, in one statement."""
    if len(tasks) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} tasks per batch, got {len(tasks)}")
    latest = {(t.execution, t.task_id): t for t in tasks}  # one row per key in one statement
    if not latest:
        return
    now = utcnow()
    rows = []
    for values in map(_values, latest.values()):
        row = dict(zip(TASK_FIELDS, values, strict=True), run_id=run_id, updated_at=now)
        row["status"] = plain(row["status"])
        rows.append(row)
    # executemany of one cached statement: a multi-row VALUES would be compiled anew each time
    session.connection().execute(_upsert(dialect_of(session)), rows)


_values = attrgetter(*TASK_FIELDS)


@cache
def _upsert(dialect: str) -> Any:
    """The dialect's upsert statement, built once (building it costs more than running it)."""
    statement = insert_for(dialect, Task.__table__)
    updates = {c: statement.excluded[c] for c in (*TASK_FIELDS, "updated_at") if c not in _KEY}
    return statement.on_conflict_do_update(index_elements=list(_KEY), set_=updates)


def list_tasks(
    session: Session,
    *,
    run_id: str,
    process: str | None = None,
    status: str | Collection[str] | None = None,
    execution: str | None = None,
    sort: str = "task_id",
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[TaskRecord], int]:
    """A page of the run's attempts matching the filters, and how many match."""
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
