"""Nextflow's Tower trace bodies (what its nf-tower client sends) mapped to a
WorkflowRun's spec and status fields (camelCase, RFC 3339 times: as the custom
resource holds them) and to task attempt records. Pure: callers give the time a
request was received; values are read by `tracker.domain.tracevalues`.

Facts the mapping relies on (nf-tower `TowerClient`, `TowerJsonGenerator`):
dates are `OffsetDateTime` strings in the runner host's offset, `instant` and
durations are epoch milliseconds, `exit` is 2147483647 while a task is unfinished,
strings may arrive truncated, and bodies carry fields this mapping does not know
(they are ignored). Nextflow's per-process `failed` counts every failed attempt,
including those it retried (also counted in `retries`) and those it ignored.

Two extensions, for runners other than Nextflow that speak this protocol (the WDL
reporters): `engine` (in the create body or the begin's `workflow`) names the
engine (`wdl`), and the complete's `workflow.aborted: true` ends the run Aborted
(a canceled run) rather than Failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from tracker.domain import tracevalues as values
from tracker.domain.conditions import rfc3339
from tracker.domain.records import Phase, ProcessCounts
from tracker.domain.s3url import InvalidS3Url, parse_prefix
from tracker.domain.tasks import TaskRecord, TaskStatus

UNFINISHED_EXIT = 2_147_483_647  # Integer.MAX_VALUE: no exit status yet
MAX_TASKS = 100  # per progress call (TowerClient.TASKS_PER_REQUEST)
MAX_ERROR = 32768  # status.errorMessage maxLength in the CRD
ENGINES = ("nextflow", "wdl", "other")  # spec.engine's enum in the CRD
COUNT_FIELDS = tuple(f.name for f in fields(ProcessCounts) if f.name != "name")
_NEXTFLOW_NAMES = {"retried": "retries"}  # our count name -> Nextflow's, where they differ

Body = Mapping[str, Any]


def heartbeat_at(body: Body, received: datetime) -> datetime:
    """When the runner was last alive: its `instant`, never later than `received`
    (a runner clock running ahead cannot hide a silence)."""
    sent = values.parse_time(body.get("instant"), field="instant")
    return min(sent, received) if sent is not None else received


def run_spec(create: Body, workflow: Body | None = None) -> dict[str, Any]:
    """The spec fields a create (and a begin's `workflow`) fill, camelCase; absent
    values are left out so a later call never blanks an earlier one."""
    w = workflow or {}
    spec: dict[str, Any] = {
        "runName": values.text(w.get("runName") or create.get("runName"), "runName", 253),
        "engine": engine(w.get("engine") or create.get("engine"), created=bool(create)),
        "sessionId": values.text(w.get("sessionId") or create.get("sessionId"), "sessionId", 128),
        "workDir": _s3(w.get("workDir")),
        "outputDir": output_dir(w),
        "commandLine": values.text(w.get("commandLine"), "commandLine"),
        "configText": values.text(w.get("configText"), "configText"),
    }
    repo = {
        "repository": values.text(w.get("repository") or create.get("repository"), "repository"),
        "revision": values.text(w.get("revision"), "revision"),
        "commit": values.text(w.get("commitId"), "commitId", 128),
    }
    spec["workflow"] = {k: v for k, v in repo.items() if v} or None
    params = w.get("params")
    if params is not None and not isinstance(params, Mapping):
        raise values.TraceError("workflow.params: expected an object")
    spec["params"] = values.clean(dict(params)) if params else None
    return {k: v for k, v in spec.items() if v not in (None, "")}


def engine(value: Any, *, created: bool) -> str | None:
    """Nextflow sends no engine, so a create without one is Nextflow's; other runners
    speaking this protocol (the WDL reporters) name theirs in `engine`. Later calls
    leave the engine as it is unless they name one."""
    if value is None:
        return "nextflow" if created else None
    if value not in ENGINES:
        raise values.TraceError(f"engine: expected one of {', '.join(ENGINES)}, got {value!r}")
    return str(value)


def output_dir(workflow: Body) -> str | None:
    """Nextflow's `outputDir` or the pipeline's `params.outdir`, whichever is an S3
    URL, as a prefix ending in `/`; None when neither is one."""
    raw = workflow.get("params")
    params: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    for candidate in (workflow.get("outputDir"), params.get("outdir")):
        if isinstance(candidate, str) and candidate.startswith("s3://"):
            prefix = candidate if candidate.endswith("/") else candidate + "/"
            try:
                parse_prefix(prefix, field="outputDir")
            except InvalidS3Url:
                continue
            return prefix
    return None


def runner_facts(workflow: Body | None) -> dict[str, Any]:
    """What the receiver keeps about the runner rather than the run: the log file it
    writes (`logFile`, Nextflow's `-log`; a local path unless written to S3)."""
    w = values.mapping(workflow, "workflow") if workflow is not None else {}
    log_file = values.text(w.get("logFile"), "workflow.logFile", 2048)
    return {"logFile": log_file} if log_file else {}


def begin_status(body: Body, received: datetime) -> dict[str, Any]:
    """Running, from the workflow's start; a new execution (a resume) clears the
    previous one's completion and error."""
    workflow = values.mapping(body.get("workflow"), "workflow")
    alive = heartbeat_at(body, received)
    started = values.parse_time(workflow.get("start"), field="workflow.start") or alive
    return {
        "phase": Phase.RUNNING.value,
        "startedAt": rfc3339(started),
        "completedAt": None,
        "errorMessage": None,
        "lastHeartbeatTime": rfc3339(alive),
    }


def progress_status(body: Body, received: datetime) -> dict[str, Any]:
    """Heartbeat, per-process counts and peak concurrency from a progress or
    heartbeat call (`progress` is optional: a bare call is a heartbeat)."""
    status: dict[str, Any] = {"lastHeartbeatTime": rfc3339(heartbeat_at(body, received))}
    progress = body.get("progress")
    if progress is None:
        return status
    progress = values.mapping(progress, "progress")
    entries = progress.get("processes") or []
    if not isinstance(entries, list):
        raise values.TraceError("progress.processes: expected a list")
    status["processes"] = [asdict(process_counts(entry, index)) for index, entry in enumerate(entries)]
    if progress.get("peakRunning") is not None:
        status["peakConcurrency"] = values.count(progress.get("peakRunning"), "progress.peakRunning")
    return status


def process_counts(entry: Any, index: int = 0) -> ProcessCounts:
    """One `progress.processes[]` entry. Our `failed` counts attempts that failed
    for good (ignored ones included); retried attempts are `retried` only."""
    where = f"progress.processes[{index}]"
    entry = values.mapping(entry, where)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise values.TraceError(f"{where}.name: expected the process name")
    counts = {
        key: values.count(entry.get(_NEXTFLOW_NAMES.get(key, key)), f"{where}.{_NEXTFLOW_NAMES.get(key, key)}")
        for key in COUNT_FIELDS
    }
    counts["failed"] = max(counts["failed"] - counts["retried"], 0)
    return ProcessCounts(name=values.text(name, f"{where}.name") or "-", **counts)


def complete_status(body: Body, received: datetime) -> dict[str, Any]:
    """Succeeded, Failed (or Aborted, when the runner says so) with completion time and
    error, plus the final counts."""
    workflow = values.mapping(body.get("workflow"), "workflow")
    status = progress_status(body, received)
    success = workflow.get("success") is True
    phase = Phase.SUCCEEDED if success else Phase.ABORTED if workflow.get("aborted") is True else Phase.FAILED
    completed = values.parse_time(workflow.get("complete"), field="workflow.complete") or heartbeat_at(body, received)
    status.update(
        phase=phase.value,
        completedAt=rfc3339(completed),
        errorMessage=None if success else error_message(workflow),
    )
    return status


def error_message(workflow: Body) -> str | None:
    """The short message and the detailed report (when it adds anything)."""
    message = values.text(workflow.get("errorMessage"), "workflow.errorMessage")
    report = values.text(workflow.get("errorReport"), "workflow.errorReport")
    text = f"{message}\n\n{report}" if report and message and message.strip() not in report else report or message
    return text[:MAX_ERROR] if text else None


def task_record(raw: Any, *, execution: str, index: int = 0) -> TaskRecord:
    """One `tasks[]` map (the trace record, camelCase, `%` as `p`)."""
    task = values.mapping(raw, f"tasks[{index}]")
    try:
        return _task(task, execution)
    except values.TraceError as error:  # the field's full name is built only for a failure
        raise values.TraceError(f"tasks[{index}].{error}") from error


def _task(task: Body, execution: str) -> TaskRecord:
    get = task.get
    task_id = get("taskId")
    if isinstance(task_id, bool) or not isinstance(task_id, int) or task_id < 0:
        raise values.TraceError(f"taskId: expected a task number, got {task_id!r}")
    try:
        status = TaskStatus(str(get("status") or "NEW").upper())
    except ValueError as error:
        raise values.TraceError(f"status: unknown task status {get('status')!r}") from error
    error_action = values.text(get("errorAction"), "errorAction", 16)
    if status is TaskStatus.FAILED and error_action == "RETRY":
        status = TaskStatus.RETRIED
    exit_code = values.integer(get("exit"), "exit")
    return TaskRecord(
        execution=execution,
        task_id=task_id,
        status=status,
        name=values.text(get("name"), "name"),
        process=values.text(get("process"), "process"),
        tag=values.text(get("tag"), "tag"),
        hash=values.text(get("hash"), "hash", 64),
        attempt=values.small(get("attempt"), "attempt") or 1,
        native_id=values.text(get("nativeId"), "nativeId"),
        submitted_at=values.parse_time(get("submit"), field="submit"),
        started_at=values.parse_time(get("start"), field="start"),
        completed_at=values.parse_time(get("complete"), field="complete"),
        duration_ms=values.integer(get("duration"), "duration"),
        realtime_ms=values.integer(get("realtime"), "realtime"),
        cpus=values.small(get("cpus"), "cpus"),
        memory_bytes=values.integer(get("memory"), "memory"),
        time_ms=values.integer(get("time"), "time"),
        pcpu=values.number(get("pcpu"), "pcpu"),
        peak_rss=values.integer(get("peakRss"), "peakRss"),
        read_bytes=values.integer(get("readBytes"), "readBytes"),
        write_bytes=values.integer(get("writeBytes"), "writeBytes"),
        exit_code=None if exit_code == UNFINISHED_EXIT else exit_code,
        error_action=error_action,
        work_dir=values.text(get("workdir"), "workdir"),
        executor=values.text(get("executor"), "executor", 64),
        machine_type=values.text(get("machineType"), "machineType", 64),
    )


def _s3(value: Any) -> str | None:
    """A path Nextflow sends as a URI string, kept only when it is on S3 (the
    resource's workDir is an S3 URL)."""
    return value if isinstance(value, str) and value.startswith("s3://") else None
