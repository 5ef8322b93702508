"""miniwdl reports its runs to the tracker: the `miniwdl.plugin.workflow` and
`miniwdl.plugin.task` entry points of this distribution.

Configured as any miniwdl option, from the environment or a miniwdl .cfg section
`[tracker]`: `MINIWDL__TRACKER__URL` (the receiver's base URL, e.g.
`http://tracker:8000/tower`; unset, the plugin does nothing), `MINIWDL__TRACKER__TOKEN`
(default `$TOWER_ACCESS_TOKEN`), and optionally `MINIWDL__TRACKER__OUTPUT_DIR` (the
run's S3 output prefix), `MINIWDL__TRACKER__WORKSPACE` (a workspace id) and
`MINIWDL__TRACKER__PUBLISH_TO` (an `s3://BUCKET/PREFIX/`: the run's output files are
uploaded under `PREFIX/<run>/`, its outputDir, before it is reported done),
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
from tracker.domain.s3url import InvalidS3Url, parse_prefix
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.reporters.client import TraceClient, TraceError, TraceUnavailable
from tracker.reporters.publish import PublishError, default_client, output_files, publish, run_prefix, s3_upload

Recv = dict[str, Any]
ENGINE = "wdl"


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
    ) -> None:
        self.client, self.logger, self.publish_prefix = client, logger, publish_prefix
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

    def task(self, record: TaskRecord) -> None:
        processes, peak = self.counts(), self.peak_running
        self._queue.put(
            ("progress", tracebodies.progress(tasks=[record], processes=processes, peak_running=peak, instant=_now()))
        )

    def end(self, *, success: bool, error: str | None = None) -> None:
        """Queue the completion, then wait (at most the grace period) for every report to go out."""
        now = _now()
        body = tracebodies.complete(
            success=success, completed=now, processes=self.counts(), instant=now, error_message=error
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
    publish_prefix = None
    if (publish_to := _option(cfg, "publish_to")) is not None:
        try:
            publish_prefix = run_prefix(parse_prefix(publish_to, field="MINIWDL__TRACKER__PUBLISH_TO"), run_name)
        except InvalidS3Url as error:
            logger.warning(f"tracker: outputs not published: {error}")
    create = tracebodies.create(run_name=run_name, session_id=session_id, engine=ENGINE, instant=now)
    begin = tracebodies.begin(
        run_name=run_name,
        session_id=session_id,
        engine=ENGINE,
        started=now,
        instant=now,
        params=_plain(inputs),
        output_dir=publish_prefix or _option(cfg, "output_dir"),
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
    )


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
        work_dir=run_dir,
        executor="miniwdl",
    )
    report.task(attempt)
    try:
        recv = yield recv  # the command back; the outputs come in, or the task's failure
    except BaseException as error:
        report.task_ended(process, succeeded=False)
        report.task(_ended(attempt, TaskStatus.FAILED, getattr(error, "exit_status", None)))
        raise
    report.task_ended(process, succeeded=True)
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
