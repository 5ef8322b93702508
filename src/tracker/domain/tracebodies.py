"""Trace bodies as a runner other than Nextflow sends them (the WDL reporters): the
same calls and fields Nextflow's nf-tower client sends, so every engine reaches the
tracker through one receiver. The inverse of `tracker.domain.nextflow`'s mapping:
`nextflow.task_record(trace_task(r)) == r` for every attempt `r`, which the property
tests check. Pure: callers give the times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from tracker.domain.nextflow import UNFINISHED_EXIT
from tracker.domain.records import ProcessCounts
from tracker.domain.tasks import TaskRecord, TaskStatus

# TaskRecord field -> trace key, where they differ; times as epoch milliseconds.
_TRACE_KEYS = {
    "task_id": "taskId",
    "native_id": "nativeId",
    "submitted_at": "submit",
    "started_at": "start",
    "completed_at": "complete",
    "duration_ms": "duration",
    "realtime_ms": "realtime",
    "memory_bytes": "memory",
    "time_ms": "time",
    "peak_rss": "peakRss",
    "read_bytes": "readBytes",
    "write_bytes": "writeBytes",
    "exit_code": "exit",
    "error_action": "errorAction",
    "work_dir": "workdir",
    "machine_type": "machineType",
}
_NOT_SENT = ("execution",)  # the receiver's own: the workflow id of the call


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def trace_task(record: TaskRecord) -> dict[str, Any]:
    """One `tasks[]` entry of a progress call."""
    entry: dict[str, Any] = {}
    for name, value in asdict(record).items():
        if name in _NOT_SENT or value is None:
            continue
        if isinstance(value, datetime):
            value = epoch_ms(value)
        entry[_TRACE_KEYS.get(name, name)] = value
    if record.status is TaskStatus.RETRIED:  # the protocol's form of a retried attempt
        entry.update(status=TaskStatus.FAILED.value, errorAction="RETRY")
    else:
        entry["status"] = record.status.value
    entry.setdefault("exit", UNFINISHED_EXIT)
    return entry


def create(*, run_name: str, session_id: str, engine: str, instant: datetime) -> dict[str, Any]:
    return {
        "runName": run_name,
        "sessionId": session_id,
        "engine": engine,
        "workflowId": None,
        "instant": epoch_ms(instant),
    }


def begin(
    *,
    run_name: str,
    session_id: str,
    engine: str,
    started: datetime,
    instant: datetime,
    params: Mapping[str, Any] | None = None,
    command_line: str | None = None,
    output_dir: str | None = None,
    work_dir: str | None = None,
    repository: str | None = None,
) -> dict[str, Any]:
    workflow = {
        "runName": run_name,
        "sessionId": session_id,
        "engine": engine,
        "start": started.isoformat(),
        "params": dict(params) if params else None,
        "commandLine": command_line,
        "outputDir": output_dir,
        "workDir": work_dir,
        "repository": repository,
    }
    return {"workflow": {k: v for k, v in workflow.items() if v is not None}, "instant": epoch_ms(instant)}


def progress(
    *, tasks: Iterable[TaskRecord], processes: Iterable[ProcessCounts], peak_running: int | None, instant: datetime
) -> dict[str, Any]:
    """Tasks (at most 100 per call: the caller batches), the per-process counts and
    the most tasks that ran at once so far (None: not known)."""
    return {
        "tasks": [trace_task(t) for t in tasks],
        "progress": {"processes": [_process(p) for p in processes], "peakRunning": peak_running},
        "instant": epoch_ms(instant),
    }


def heartbeat(*, instant: datetime) -> dict[str, Any]:
    return {"instant": epoch_ms(instant)}


def complete(
    *,
    success: bool,
    aborted: bool = False,
    completed: datetime,
    processes: Iterable[ProcessCounts],
    instant: datetime,
    error_message: str | None = None,
    error_report: str | None = None,
    log_file: str | None = None,
) -> dict[str, Any]:
    workflow = {
        "success": success,
        "aborted": aborted or None,
        "complete": completed.isoformat(),
        "errorMessage": error_message,
        "errorReport": error_report,
        "logFile": log_file,
    }
    return {
        "workflow": {k: v for k, v in workflow.items() if v is not None},
        "progress": {"processes": [_process(p) for p in processes]},
        "instant": epoch_ms(instant),
    }


def _process(counts: ProcessCounts) -> dict[str, Any]:
    """Nextflow's counters: its `failed` includes retried attempts, named `retries`."""
    entry = asdict(counts)
    entry["retries"] = entry.pop("retried")
    entry["failed"] += counts.retried
    return entry
