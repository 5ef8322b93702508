"""Task attempts: one record per attempt of one task of a run, as the index keeps
them (the custom resource keeps per-process counts only).

A task retried by its runner is two attempts with two task ids; the failed one keeps
status `RETRIED` so it is told apart from a failure that ended the task. A `CACHED`
attempt carries the trace of the execution that computed it (its old times and work
directory).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum


class TaskStatus(StrEnum):
    NEW = "NEW"
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    RETRIED = "RETRIED"
    ABORTED = "ABORTED"
    CACHED = "CACHED"

    @property
    def terminal(self) -> bool:
        return self not in (TaskStatus.NEW, TaskStatus.SUBMITTED, TaskStatus.RUNNING)


@dataclass(frozen=True)
class TaskRecord:
    """One attempt. `execution` names the runner's execution that reported it (a
    resumed run restarts task ids, so ids are unique per execution only)."""

    execution: str
    task_id: int
    status: TaskStatus
    name: str | None = None
    process: str | None = None
    tag: str | None = None
    hash: str | None = None
    attempt: int = 1
    native_id: str | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_ms: int | None = None
    realtime_ms: int | None = None
    cpus: int | None = None
    memory_bytes: int | None = None
    time_ms: int | None = None
    pcpu: float | None = None
    peak_rss: int | None = None
    read_bytes: int | None = None
    write_bytes: int | None = None
    exit_code: int | None = None
    error_action: str | None = None
    work_dir: str | None = None
    executor: str | None = None
    machine_type: str | None = None  # the cloud instance type, when the runner reports it


TASK_FIELDS = tuple(f.name for f in fields(TaskRecord))
