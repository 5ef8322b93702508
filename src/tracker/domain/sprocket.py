"""Sprocket's provenance rows (`sessions`, `runs`, `tasks` of its `sprocket.db`) as
what the tracker keeps of a run: its phase, times, params, error, heartbeat, task
attempts and per-call counts. Pure: rows are plain dicts as SQLite returns them.

Facts it relies on (Sprocket 0.33, `migrations/`, `src/system/v1/db/`): times are
UTC text (`2026-12-01 23:00:00` from SQLite's `current_timestamp`, or RFC 3339 with
nanoseconds from the engine); a session's `heartbeat_at` moves about once a minute
while its process lives; a task row is one attempt (`name` unique, `call_id` the WDL
call, `attempt` from 0 for a cached result, `retry_cause` set on a failed attempt
that is retried); an `orphaned` run is one whose process died: its phase stays
Running and its stale heartbeat makes it Disconnected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tracker.domain.records import Phase, ProcessCounts
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.domain.tracevalues import TraceError, parse_time

Row = Mapping[str, Any]

RUN_PHASES = {
    "queued": Phase.SUBMITTED,
    "analyzing": Phase.SUBMITTED,
    "running": Phase.RUNNING,
    "canceling": Phase.RUNNING,
    "orphaned": Phase.RUNNING,  # the process died: the stale heartbeat says so (Disconnected)
    "completed": Phase.SUCCEEDED,
    "failed": Phase.FAILED,
    "canceled": Phase.ABORTED,
}
TASK_STATUSES = {
    "initializing": TaskStatus.NEW,
    "localizing": TaskStatus.SUBMITTED,
    "pending": TaskStatus.SUBMITTED,
    "running": TaskStatus.RUNNING,
    "completed": TaskStatus.COMPLETED,
    "failed": TaskStatus.FAILED,
    "canceled": TaskStatus.ABORTED,
    "preempted": TaskStatus.RETRIED,  # the backend runs it again
    "orphaned": TaskStatus.ABORTED,
    "cached": TaskStatus.CACHED,
}
_SHARD = re.compile(r"-\d+$")  # a scatter shard's call id: `align-2`


class SprocketRowError(ValueError):
    """A row this mapping cannot read; the message names the table, row and field."""


@dataclass(frozen=True)
class RunView:
    """One Sprocket run as the tracker reports it."""

    uuid: str
    name: str
    session_uuid: str
    phase: Phase
    status: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    heartbeat_at: datetime | None
    error: str | None
    inputs: dict[str, Any] | None
    outputs: dict[str, Any] | None
    directory: str | None
    source: str
    target: str | None
    tasks: tuple[TaskRecord, ...]

    @property
    def processes(self) -> list[ProcessCounts]:
        return process_counts(self.tasks)


def time(value: Any, *, where: str) -> datetime | None:
    """A Sprocket time: UTC text with or without an offset, `T` or space between."""
    if value is None or value == "":
        return None
    text = str(value).strip().replace(" ", "T", 1)
    if not re.search(r"(Z|[+-]\d\d:?\d\d)$", text):
        text += "+00:00"  # SQLite's current_timestamp: UTC without an offset
    try:
        return parse_time(text, field=where)
    except TraceError as error:
        raise SprocketRowError(str(error)) from error


def runs(sessions: Mapping[int, Row], run_rows: Iterable[Row], task_rows: Iterable[Row]) -> list[RunView]:
    by_run: dict[int, list[Row]] = {}
    for task in task_rows:
        by_run.setdefault(task["run_id"], []).append(task)
    return [run_view(row, sessions.get(row["session_id"]), by_run.get(row["id"], [])) for row in run_rows]


def run_view(row: Row, session: Row | None, task_rows: Iterable[Row]) -> RunView:
    where = f"runs[{row.get('id')}]"
    status = str(row.get("status"))
    if status not in RUN_PHASES:
        raise SprocketRowError(f"{where}.status: unknown run status {status!r}")
    uuid = str(row["uuid"])
    return RunView(
        uuid=uuid,
        name=str(row.get("name") or uuid),
        session_uuid=str(session["uuid"]) if session else uuid,
        phase=RUN_PHASES[status],
        status=status,
        created_at=_required(time(row.get("created_at"), where=f"{where}.created_at"), f"{where}.created_at"),
        started_at=time(row.get("started_at"), where=f"{where}.started_at"),
        completed_at=time(row.get("completed_at"), where=f"{where}.completed_at"),
        heartbeat_at=time(session.get("heartbeat_at"), where="sessions.heartbeat_at") if session else None,
        error=row.get("error") or None,
        inputs=_json(row.get("inputs"), f"{where}.inputs"),
        outputs=_json(row.get("outputs"), f"{where}.outputs"),
        directory=row.get("directory") or None,
        source=str(row.get("source") or ""),
        target=row.get("target") or None,
        tasks=tuple(task_record(t, execution=uuid) for t in task_rows),
    )


def task_record(row: Row, *, execution: str) -> TaskRecord:
    where = f"tasks[{row.get('name')}]"
    raw = str(row.get("status"))
    if raw not in TASK_STATUSES:
        raise SprocketRowError(f"{where}.status: unknown task status {raw!r}")
    status = TASK_STATUSES[raw]
    if status is TaskStatus.FAILED and row.get("retry_cause"):
        status = TaskStatus.RETRIED
    created = time(row.get("created_at"), where=f"{where}.created_at")
    started = time(row.get("started_at"), where=f"{where}.started_at")
    completed = time(row.get("completed_at"), where=f"{where}.completed_at")
    call = str(row.get("call_id") or row.get("name"))
    return TaskRecord(
        execution=execution,
        task_id=int(row["task_id"]),
        status=status,
        name=str(row.get("name")),
        process=process_of(call),
        tag=call if call != process_of(call) else None,
        attempt=max(int(row.get("attempt") or 0), 0) + 1,
        submitted_at=created,
        started_at=started,
        completed_at=completed,
        duration_ms=_ms(created, completed),
        realtime_ms=_ms(started, completed),
        exit_code=row.get("exit_status"),
        executor="sprocket",
    )


def process_of(call_id: str) -> str:
    """The WDL call a task attempt belongs to: its call id without a scatter index."""
    return _SHARD.sub("", call_id)


def process_counts(tasks: Iterable[TaskRecord]) -> list[ProcessCounts]:
    counts: dict[str, dict[str, int]] = {}
    field = {
        TaskStatus.NEW: "pending",
        TaskStatus.SUBMITTED: "submitted",
        TaskStatus.RUNNING: "running",
        TaskStatus.COMPLETED: "succeeded",
        TaskStatus.FAILED: "failed",
        TaskStatus.RETRIED: "retried",
        TaskStatus.ABORTED: "aborted",
        TaskStatus.CACHED: "cached",
    }
    for task in tasks:
        entry = counts.setdefault(task.process or "-", {})
        entry[field[task.status]] = entry.get(field[task.status], 0) + 1
    return [ProcessCounts(name=name, **values) for name, values in counts.items()]


def _required(value: datetime | None, where: str) -> datetime:
    if value is None:
        raise SprocketRowError(f"{where}: missing")
    return value


def _ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(int((end - start).total_seconds() * 1000), 0)


def _json(value: Any, where: str) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError) as error:
        raise SprocketRowError(f"{where}: not JSON ({error})") from error
    return parsed if isinstance(parsed, dict) else {"value": parsed}
