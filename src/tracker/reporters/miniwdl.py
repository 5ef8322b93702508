"""miniwdl reports its runs to the tracker: the `miniwdl.plugin.workflow` and
`miniwdl.plugin.task` entry points of this distribution.

Configured as any miniwdl option, from the environment or a miniwdl .cfg section
`[tracker]`: `MINIWDL__TRACKER__URL` (the receiver's base URL, e.g.
`http://tracker:8000/tower`; unset, the plugin does nothing), `MINIWDL__TRACKER__TOKEN`
(default `$TOWER_ACCESS_TOKEN`), and optionally `MINIWDL__TRACKER__OUTPUT_DIR` (the
run's S3 output prefix), `MINIWDL__TRACKER__WORKSPACE` (a workspace id) and
`MINIWDL__TRACKER__PUBLISH_TO` (an `s3://BUCKET/PREFIX/`: the run's output files are
uploaded under `PREFIX/<run>/`, its outputDir, before it is reported done),
`MINIWDL__TRACKER__LOGS_TO` (an `s3://BUCKET/PREFIX/`: the run's work dir is
`PREFIX/<run>/`; each finished task's `stdout.txt`, `stderr.txt` and `command` are
uploaded to its directory there as `.command.out`, `.command.err` and `.command.sh`,
and the run's `workflow.log`, as its log file, before it is reported done),
`MINIWDL__TRACKER__HEARTBEAT_SECONDS` (default 30) and `MINIWDL__TRACKER__GRACE_SECONDS`
(how long a finished run waits for unsent reports, default 60).

The top-level workflow's coroutine creates the run (engine `wdl`, its inputs as
params) and heartbeats from a thread while the run lives; each task's coroutine
reports its attempt when its command is about to run and when it ends. Reports are
sent by a thread of the run's (`RunReport`); one the tracker refuses is logged as a
warning, never raised into the run: a tracker outage does not fail a workflow.
"""

from __future__ import annotations

import os
import queue
import threading
import uuid
from collections.abc import Generator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracker.domain import tracebodies
from tracker.domain.records import ProcessCounts
from tracker.domain.s3url import InvalidS3Url, parse_prefix, parse_url
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.reporters.client import TraceClient, TraceError, TraceUnavailable
from tracker.reporters.publish import (
    PublishError,
    Upload,
    default_client,
    output_files,
    publish,
    publish_task_logs,
    run_prefix,
    s3_upload,
    task_log_names,
)

Recv = dict[str, Any]
ENGINE = "wdl"
RUN_LOG = "workflow.log"  # miniwdl's log of a run, in its run directory
TASK_LOGS = task_log_names(stdout="stdout.txt", stderr="stderr.txt", command="command")  # a task's files


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Process:
    running: int = 0
    succeeded: int = 0
    failed: int = 0


class RunReport:
    """What one miniwdl run reports, sent in order by a thread of its own: the run's
    threads only queue reports, so a slow or unreachable tracker never holds up a
    task. The sender retries each call until it gets through (the client's backoff),
    so reports queued while the tracker is down arrive when it comes back; at the
    end of the run it gets `grace_seconds` to drain the queue."""

    def __init__(
        self,
        client: TraceClient,
        create: dict[str, Any],
        begin: dict[str, Any],
        *,
        logger: Any,
        heartbeat_seconds: float,
        grace_seconds: float,
        publish_prefix: str | None = None,
        logs_prefix: str | None = None,
        run_dir: Path | None = None,
    ) -> None:
        self.client, self.logger, self.publish_prefix = client, logger, publish_prefix
        self.logs_prefix, self.run_dir = logs_prefix, run_dir
        self._upload: Upload | None = s3_upload(default_client) if logs_prefix else None
        self.heartbeat_seconds, self.grace_seconds = heartbeat_seconds, grace_seconds
        self.lock = threading.Lock()
        self.processes: dict[str, _Process] = {}
        self.next_task_id, self.running, self.peak_running = 1, 0, 0
        self.workflow_id: str | None = None
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._ended = threading.Event()
        self._queue.put(("create", create))
        self._queue.put(("begin", begin))
        self._sender = threading.Thread(target=self._send_all, name="tracker-reports", daemon=True)
        self._beats = threading.Thread(target=self._heartbeats, name="tracker-heartbeat", daemon=True)

    def start(self) -> RunReport:
        self._sender.start()
        self._beats.start()
        return self

    def counts(self) -> list[ProcessCounts]:
        with self.lock:
            return [ProcessCounts(name=name, **vars(p)) for name, p in self.processes.items()]

    def task_started(self, process: str) -> int:
        with self.lock:
            task_id, self.next_task_id = self.next_task_id, self.next_task_id + 1
            self.processes.setdefault(process, _Process()).running += 1
            self.running += 1
            self.peak_running = max(self.peak_running, self.running)
            return task_id

    def task_ended(self, process: str, *, succeeded: bool) -> None:
        with self.lock:
            counts = self.processes[process]
            counts.running -= 1
            self.running -= 1
            if succeeded:
                counts.succeeded += 1
            else:
                counts.failed += 1

    def work_dir(self, task_dir: str) -> str:
        """A task's work dir: its directory under the logs prefix, else its local directory."""
        if self.logs_prefix is None or self.run_dir is None:
            return task_dir
        relative = Path(task_dir).resolve().relative_to(self.run_dir.resolve()).as_posix()
        return f"{self.logs_prefix}{relative}/"

    def task_logs(self, task_dir: str, work_dir: str) -> None:
        """Queue the upload of a finished task's logs into its work dir (before its end is reported)."""
        if self._upload is not None and work_dir.startswith("s3://"):
            self._queue.put(("logs", {"directory": task_dir, "work_dir": work_dir}))

    def task(self, record: TaskRecord) -> None:
        processes, peak = self.counts(), self.peak_running
        self._queue.put(
            ("progress", tracebodies.progress(tasks=[record], processes=processes, peak_running=peak, instant=_now()))
        )

    def end(self, *, success: bool, error: str | None = None) -> None:
        """Queue the completion, then wait (at most the grace period) for every report to go out."""
        now = _now()
        log_file = None
        if self._upload is not None and self.run_dir is not None and (self.run_dir / RUN_LOG).is_file():
            log_file = f"{self.logs_prefix}{RUN_LOG}"
            self._queue.put(("log", {"path": str(self.run_dir / RUN_LOG), "url": log_file}))
        body = tracebodies.complete(
            success=success, completed=now, processes=self.counts(), instant=now, error_message=error, log_file=log_file
        )
        self._queue.put(("complete", body))
        self._queue.put(None)
        self._ended.set()
        self._sender.join(self.grace_seconds)
        if self._sender.is_alive():
            self.logger.warning(
                f"tracker: reports still unsent after {self.grace_seconds:.0f} s: the run ends without them"
            )
        self.client.close()

    def _heartbeats(self) -> None:
        while not self._ended.wait(self.heartbeat_seconds):
            if self._queue.empty():  # reports already queued carry the heartbeat
                self._queue.put(("heartbeat", tracebodies.heartbeat(instant=_now())))

    def _send_all(self) -> None:
        while (item := self._queue.get()) is not None:
            call, body = item
            if call in ("logs", "log"):
                self._publish_logs(call, body)
                continue
            while True:
                try:
                    if call == "create":
                        self.workflow_id = self.client.create(body)
                    elif self.workflow_id is not None:
                        getattr(self.client, call)(self.workflow_id, body)
                    break
                except TraceUnavailable as error:
                    self.logger.warning(f"tracker: {call} not reported yet, retrying: {error}")
                except TraceError as error:  # refused: retrying the same report cannot help
                    self.logger.warning(f"tracker: {call} not reported: {error}")
                    break
            if call == "create" and self.workflow_id is not None:
                self.logger.info(f"tracker: reporting the run (workflow id {self.workflow_id})")

    def _publish_logs(self, call: str, body: dict[str, Any]) -> None:
        """Upload a task's logs or the run's log; a failed upload is a warning, never the run's failure."""
        if self._upload is None:
            return
        try:
            if call == "logs":
                publish_task_logs(Path(body["directory"]), body["work_dir"], TASK_LOGS, self._upload)
            else:
                self._upload(Path(body["path"]), parse_url(body["url"]))
        except (PublishError, InvalidS3Url, OSError) as error:
            self.logger.warning(f"tracker: logs not published: {error}")


_RUNS: dict[str, RunReport] = {}  # top-level run id -> its report, for the run's task threads


def _option(cfg: Any, key: str, default: str | None = None) -> str | None:
    if cfg.has_option("tracker", key):
        value = str(cfg["tracker"].get(key)).strip()
        return value or default
    return default


def workflow(
    cfg: Any, logger: Any, run_id: list[str], run_dir: str, workflow: Any, **recv: Any
) -> Generator[Recv, Recv, None]:
    report = _report(cfg, logger, run_dir, workflow, recv.get("inputs")) if len(run_id) == 1 else None
    if report is None:  # not configured, or a sub-workflow of a reported run
        recv = yield recv
        yield recv
        return
    _RUNS[run_id[0]] = report.start()
    finished = False
    try:
        recv = yield recv  # the outputs: the run succeeded
        _RUNS.pop(run_id[0], None)
        _publish(report, recv.get("outputs"), Path(run_dir))
        report.end(success=True)
        finished = True
        yield recv
    except BaseException as error:  # thrown in by miniwdl: the run failed or was interrupted
        if not finished:
            _RUNS.pop(run_id[0], None)
            report.end(success=False, error=f"{type(error).__name__}: {error}")
        raise


def _report(cfg: Any, logger: Any, run_dir: str, workflow: Any, inputs: Any) -> RunReport | None:
    url = _option(cfg, "url")
    if url is None:
        return None
    token = _option(cfg, "token", os.environ.get("TOWER_ACCESS_TOKEN"))
    if not token:
        logger.warning("tracker: MINIWDL__TRACKER__URL is set but no token (MINIWDL__TRACKER__TOKEN): not reported")
        return None
    run_name, session_id, now = os.path.basename(os.path.normpath(run_dir)), str(uuid.uuid4()), _now()
    publish_prefix = _prefix_option(cfg, logger, "publish_to", run_name, "outputs not published")
    logs_prefix = _prefix_option(cfg, logger, "logs_to", run_name, "logs not published")
    create = tracebodies.create(run_name=run_name, session_id=session_id, engine=ENGINE, instant=now)
    begin = tracebodies.begin(
        run_name=run_name,
        session_id=session_id,
        engine=ENGINE,
        started=now,
        instant=now,
        params=_plain(inputs),
        output_dir=publish_prefix or _option(cfg, "output_dir"),
        work_dir=logs_prefix,
        repository=getattr(workflow, "name", None),
    )
    return RunReport(
        TraceClient(url, token, workspace_id=_option(cfg, "workspace"), retry_for=30),
        create,
        begin,
        logger=logger,
        heartbeat_seconds=float(_option(cfg, "heartbeat_seconds", "30") or 30),
        grace_seconds=float(_option(cfg, "grace_seconds", "60") or 60),
        publish_prefix=publish_prefix,
        logs_prefix=logs_prefix,
        run_dir=Path(run_dir),
    )


def _prefix_option(cfg: Any, logger: Any, key: str, run_name: str, without: str) -> str | None:
    """The run's prefix under an `s3://BUCKET/PREFIX/` option; None (and a warning when it is bad) without it."""
    value = _option(cfg, key)
    if value is None:
        return None
    try:
        return run_prefix(parse_prefix(value, field=f"MINIWDL__TRACKER__{key.upper()}"), run_name)
    except InvalidS3Url as error:
        logger.warning(f"tracker: {without}: {error}")
        return None


def _publish(report: RunReport, outputs: Any, run_dir: Path) -> None:
    """Upload the run's output files under its outputDir before it is reported done."""
    if report.publish_prefix is None:
        return
    try:
        files = output_files(_plain(outputs), run_dir)
        publish(files, report.publish_prefix, run_dir, s3_upload(default_client))
    except (PublishError, OSError) as error:  # a failed upload must not fail the run
        report.logger.warning(f"tracker: outputs not published to {report.publish_prefix}: {error}")
    else:
        report.logger.info(f"tracker: {len(files)} output files published to {report.publish_prefix}")


def task(cfg: Any, logger: Any, run_id: list[str], run_dir: str, task: Any, **recv: Any) -> Generator[Recv, Recv, None]:
    report = _RUNS.get(run_id[0])
    if report is None:
        recv = yield recv  # inputs
        recv = yield recv  # command
        yield recv  # outputs
        return
    recv = yield recv  # the inputs back; the command comes in, about to run
    process = str(task.name)
    task_id, now = report.task_started(process), _now()
    attempt = TaskRecord(
        execution="",  # the receiver's: the workflow id of the call
        task_id=task_id,
        status=TaskStatus.RUNNING,
        name=run_id[-1],
        process=process,
        submitted_at=now,
        started_at=now,
        work_dir=report.work_dir(run_dir),
        executor="miniwdl",
    )
    report.task(attempt)
    try:
        recv = yield recv  # the command back; the outputs come in, or the task's failure
    except BaseException as error:
        report.task_ended(process, succeeded=False)
        report.task_logs(run_dir, attempt.work_dir or "")
        report.task(_ended(attempt, TaskStatus.FAILED, getattr(error, "exit_status", None)))
        raise
    report.task_ended(process, succeeded=True)
    report.task_logs(run_dir, attempt.work_dir or "")
    report.task(_ended(attempt, TaskStatus.COMPLETED, 0))
    yield recv


def _ended(attempt: TaskRecord, status: TaskStatus, exit_code: int | None) -> TaskRecord:
    now = _now()
    started = attempt.started_at or now
    elapsed = int((now - started).total_seconds() * 1000)
    return replace(
        attempt, status=status, completed_at=now, duration_ms=elapsed, realtime_ms=elapsed, exit_code=exit_code
    )


def _plain(inputs: Any) -> dict[str, Any] | None:
    """The run's inputs as JSON (miniwdl's WDL.Env.Bindings of WDL values)."""
    if inputs is None:
        return None
    try:
        from WDL import values_to_json  # miniwdl is there: it is running this plugin

        plain: dict[str, Any] = values_to_json(inputs)
        return plain
    except Exception:  # an inputs shape this version does not convert: report without params
        return None
