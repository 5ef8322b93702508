"""Sprocket's provenance rows (`sessions`, `runs`, `tasks` of its `sprocket.db`) as
what the tracker keeps of a run: its phase, times, params, error, heartbeat, task
attempts and per-call counts. Pure: rows are plain dicts as SQLite returns them.

Facts it relies on (Sprocket 0.33, `migrations/`, `src/system/v1/db/`,
`src/metrics.rs`): times are UTC text (`2026-12-01 23:00:00` from SQLite's
`current_timestamp`, or RFC 3339 with nanoseconds from the engine); a session's
`heartbeat_at` moves about once a minute while its process lives; an `orphaned` run
is one whose process died: its phase stays Running and its stale heartbeat makes it
Disconnected. Task attempts come from the `tasks` table when Sprocket fills it (its
dev server does); `sprocket run` leaves it empty, so they come from the run
directory instead: each attempt's `calls/<call>/attempts/<n>/` appears when it
starts (`AttemptDir`), and `metrics.json`, written when the run ends, holds every
attempt's status, exit status, wall time, requested resources and retry cause. An
attempt is keyed `<call id>#<attempt>` in both sources, so its live report and its
final one are one task row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
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
    tasks_final: bool  # from the tasks table or metrics.json, not only from live directories

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


@dataclass(frozen=True)
class AttemptDir:
    """An attempt's directory in the run directory: it exists once the attempt started."""

    call_id: str
    attempt: int
    started_at: datetime


TaskIds = Callable[[str, str], int]  # (run uuid, attempt key) -> a task id, stable for the key


def attempt_key(call_id: str, attempt: int) -> str:
    return f"{call_id}#{attempt}"


def attempt_path(key: str) -> str:
    """An attempt's directory below its run directory: `calls/<call>/attempts/<n>/`."""
    call_id, _, attempt = key.rpartition("#")
    return f"calls/{call_id}/attempts/{attempt}/"


def run_view(
    row: Row,
    session: Row | None,
    task_rows: Iterable[Row],
    *,
    task_ids: TaskIds,
    metrics: Mapping[str, Any] | None = None,
    attempt_dirs: Iterable[AttemptDir] = (),
    work_root: str | None = None,
) -> RunView:
    """The run as the tracker sees it. With `work_root` (where the watcher publishes
    the run's logs, ending in `/`), each attempt's work dir is its directory's path
    under it."""
    where = f"runs[{row.get('id')}]"
    status = str(row.get("status"))
    if status not in RUN_PHASES:
        raise SprocketRowError(f"{where}.status: unknown run status {status!r}")
    uuid = str(row["uuid"])
    rows = list(task_rows)
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
        tasks=tuple(
            replace(record, work_dir=work_root + attempt_path(key)) if work_root else record
            for key, record in _tasks(uuid, rows, metrics, list(attempt_dirs), task_ids)
        ),
        tasks_final=bool(rows) or metrics is not None,
    )


def _tasks(
    uuid: str, rows: list[Row], metrics: Mapping[str, Any] | None, dirs: list[AttemptDir], task_ids: TaskIds
) -> list[tuple[str, TaskRecord]]:
    """Every attempt, with its key."""
    if rows:
        return [
            (key, task_record(r, execution=uuid, task_id=task_ids(uuid, key))) for r in rows if (key := _row_key(r))
        ]
    started = {attempt_key(d.call_id, d.attempt): d.started_at for d in dirs}
    finished = metric_attempts(metrics, execution=uuid, started=started, task_ids=task_ids)
    seen = {key for key, _ in finished}
    live = [
        (
            key,
            TaskRecord(
                execution=uuid,
                task_id=task_ids(uuid, key),
                status=TaskStatus.RUNNING,
                name=d.call_id,
                process=process_of(d.call_id),
                tag=_tag(d.call_id),
                attempt=d.attempt + 1,
                submitted_at=d.started_at,
                started_at=d.started_at,
                executor="sprocket",
            ),
        )
        for d in sorted(dirs, key=lambda d: d.started_at)
        if (key := attempt_key(d.call_id, d.attempt)) not in seen
    ]
    return finished + live


def _row_key(row: Row) -> str:
    return attempt_key(str(row.get("call_id") or row.get("name")), int(row.get("attempt") or 0))


def metric_attempts(
    metrics: Mapping[str, Any] | None, *, execution: str, started: Mapping[str, datetime], task_ids: TaskIds
) -> list[tuple[str, TaskRecord]]:
    """Every attempt of a finished run's `metrics.json`, keyed; times from the
    attempt's directory (`started`) and its wall time."""
    if not metrics:
        return []
    out: list[tuple[str, TaskRecord]] = []
    for c, call in enumerate(metrics.get("calls") or []):
        call_id = str(call.get("call_id") or call.get("name") or f"call-{c}")
        for attempt in call.get("attempts") or []:
            where = f"metrics.json calls[{call_id}]"
            raw = str(attempt.get("status"))
            if raw not in TASK_STATUSES:
                raise SprocketRowError(f"{where}.status: unknown task status {raw!r}")
            number = int(attempt.get("attempt") or 0)
            key = attempt_key(call_id, number)
            exit_code = attempt.get("exit_status")
            status = _attempt_status(TASK_STATUSES[raw], exit_code, attempt.get("retry_cause"))
            begun = started.get(key)
            wall = attempt.get("wall_time_ms")
            queued = attempt.get("queued_ms")
            constraints = attempt.get("constraints") or {}
            cpu = constraints.get("cpu")
            record = TaskRecord(
                execution=execution,
                task_id=task_ids(execution, key),
                status=status,
                name=str(attempt.get("name") or call_id),
                process=process_of(call_id),
                tag=_tag(call_id),
                attempt=number + 1,
                submitted_at=begun,
                started_at=begun,
                completed_at=begun + timedelta(milliseconds=wall) if begun and isinstance(wall, int) else None,
                duration_ms=wall + queued if isinstance(wall, int) and isinstance(queued, int) else None,
                realtime_ms=wall if isinstance(wall, int) else None,
                cpus=round(cpu) if isinstance(cpu, int | float) else None,
                memory_bytes=constraints.get("memory") if isinstance(constraints.get("memory"), int) else None,
                exit_code=exit_code if isinstance(exit_code, int) else None,
                executor="sprocket",
            )
            out.append((key, record))
    return out


def _attempt_status(status: TaskStatus, exit_code: Any, retry_cause: Any) -> TaskStatus:
    """A `completed` attempt whose command exited non-zero failed the task; a failed
    attempt with a retry cause was retried."""
    if status is TaskStatus.COMPLETED and isinstance(exit_code, int) and exit_code != 0:
        status = TaskStatus.FAILED
    if status is TaskStatus.FAILED and retry_cause:
        return TaskStatus.RETRIED
    return status


def _tag(call_id: str) -> str | None:
    return call_id if call_id != process_of(call_id) else None


def task_record(row: Row, *, execution: str, task_id: int) -> TaskRecord:
    where = f"tasks[{row.get('name')}]"
    raw = str(row.get("status"))
    if raw not in TASK_STATUSES:
        raise SprocketRowError(f"{where}.status: unknown task status {raw!r}")
    status = _attempt_status(TASK_STATUSES[raw], row.get("exit_status"), row.get("retry_cause"))
    created = time(row.get("created_at"), where=f"{where}.created_at")
    started = time(row.get("started_at"), where=f"{where}.started_at")
    completed = time(row.get("completed_at"), where=f"{where}.completed_at")
    call = str(row.get("call_id") or row.get("name"))
    return TaskRecord(
        execution=execution,
        task_id=task_id,
        status=status,
        name=str(row.get("name")),
        process=process_of(call),
        tag=_tag(call),
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
