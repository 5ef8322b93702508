"""`tracker watch sprocket OUT_DIR`: follows Sprocket's provenance database and
reports every run in it through the trace receiver, as any runner reports.

Each poll reads the database in one short read-only transaction
(`tracker.reporters.sprocketdb`) and the unfinished runs' directories (their
attempts, and `metrics.json` once a run ended), maps them (`tracker.domain.sprocket`) and sends
what changed since the last report: a new run is created and begun (engine `wdl`,
inputs as params), task attempts whose state moved go as progress calls (at most
100 a call), a newer session heartbeat as a heartbeat, a terminal run as its
completion, after its output files are published under `--publish-to`.

With `--logs-to PREFIX`, the run's work dir is `PREFIX<run>/`: each finished
attempt's `stdout`, `stderr` and `command` are uploaded, before the attempt is
reported, to its directory there (`calls/<call>/attempts/<n>/`) under the names the
tracker reads task logs by (Nextflow's `.command.out`, `.command.err`, `.command.sh`),
and the run's `output.log`, before its completion, as the run's log file.

What was reported is kept in a state file beside the database (or `--state`),
written atomically after every call the tracker acknowledged: a restarted watcher
resends nothing it had reported and loses nothing it had not. A tracker that cannot
be reached leaves the state as it was, so the next poll sends the same reports.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tracker.domain import sprocket, tracebodies
from tracker.domain.records import Phase
from tracker.domain.s3url import S3Url, parse_url
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.reporters import sprocketdb
from tracker.reporters.client import TraceClient, TraceUnavailable
from tracker.reporters.publish import (
    PublishError,
    Upload,
    output_files,
    publish,
    publish_task_logs,
    run_prefix,
    task_log_names,
)

ENGINE = "wdl"
STATE_NAME = ".tracker-watch.json"
BATCH = 100

TRANSIENT = (TraceUnavailable, sprocketdb.SprocketDbBusy, PublishError)  # retried on the next poll


@dataclass
class RunState:
    workflow_id: str
    begun: bool = False
    heartbeat: str | None = None
    completed: bool = False
    published: bool = False
    log_published: bool = False
    logs_sent: list[int] = field(default_factory=list)  # task ids whose attempt logs were uploaded
    peak_running: int = 0  # the most attempts seen running at once
    sent: dict[str, str] = field(default_factory=dict)  # task id -> what was last sent of it


@dataclass
class WatchState:
    path: Path
    runs: dict[str, RunState] = field(default_factory=dict)  # Sprocket run uuid -> what was reported
    task_ids: dict[str, dict[str, int]] = field(default_factory=dict)  # run uuid -> attempt key -> task id

    @classmethod
    def load(cls, path: Path) -> WatchState:
        if not path.exists():
            return cls(path)
        try:
            raw = json.loads(path.read_text())
            runs = {uuid: RunState(**entry) for uuid, entry in raw["runs"].items()}
            return cls(path, runs, {uuid: dict(ids) for uuid, ids in raw["taskIds"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise sprocketdb.SprocketDbError(f"cannot read the watcher's state file {path}: {error}") from error

    def task_id(self, run_uuid: str, key: str) -> int:
        """The task id of an attempt: numbered in the order the watcher first sees them."""
        ids = self.task_ids.setdefault(run_uuid, {})
        return ids.setdefault(key, len(ids) + 1)

    def save(self) -> None:
        partial = self.path.with_name(self.path.name + ".partial")
        runs = {u: asdict(r) for u, r in self.runs.items()}
        partial.write_text(json.dumps({"runs": runs, "taskIds": self.task_ids}, indent=1))
        os.replace(partial, self.path)


def read_run_directory(directory: Path | None) -> tuple[dict[str, Any] | None, list[sprocket.AttemptDir]]:
    """A run directory's `metrics.json` (once the run ended) and its attempts'
    directories, each with the time its command file was written (its start)."""
    if directory is None or not directory.is_dir():
        return None, []
    metrics: dict[str, Any] | None = None
    try:
        metrics = json.loads((directory / "metrics.json").read_text())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as error:
        raise sprocketdb.SprocketDbError(f"cannot read {directory / 'metrics.json'}: {error}") from error
    attempts = []
    for command in sorted(directory.glob("calls/*/attempts/*/command")):
        attempt_dir = command.parent
        if not attempt_dir.name.isdigit():
            continue
        started = datetime.fromtimestamp(command.stat().st_mtime, UTC)
        attempts.append(sprocket.AttemptDir(attempt_dir.parent.parent.name, int(attempt_dir.name), started))
    return metrics, attempts


def output_prefix(publish_to: S3Url | None, run: sprocket.RunView | str) -> str | None:
    """Under `publish_to` (or None), the prefix of the run (a view or its name)."""
    name = run if isinstance(run, str) else run.name
    return run_prefix(publish_to, name) if publish_to is not None else None


RUN_LOG = "output.log"  # Sprocket's log of a run, in its run directory
ATTEMPT_LOGS = task_log_names(stdout="stdout", stderr="stderr", command="command")  # an attempt's files
FINISHED = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.RETRIED, TaskStatus.ABORTED})


METRICS_GRACE = timedelta(seconds=60)


def _long_ago(moment: datetime | None) -> bool:
    return moment is None or datetime.now(UTC) - moment > METRICS_GRACE


def _fingerprint(task: TaskRecord) -> str:
    return json.dumps(tracebodies.trace_task(task), sort_keys=True)


class SprocketWatcher:
    def __init__(
        self,
        out_dir: Path,
        client: TraceClient,
        state: WatchState,
        *,
        publish_to: S3Url | None = None,
        logs_to: S3Url | None = None,
        upload: Upload | None = None,
    ) -> None:
        self.out_dir, self.client, self.state = out_dir, client, state
        self.publish_to, self.logs_to, self.upload = publish_to, logs_to, upload

    def poll(self) -> None:
        """Read the database (and the runs' directories) once and report everything
        not reported yet."""
        snapshot = sprocketdb.read(self.out_dir)
        tasks: dict[int, list[dict[str, Any]]] = {}
        for task in snapshot.tasks:
            tasks.setdefault(task["run_id"], []).append(task)
        for row in snapshot.runs:
            entry = self.state.runs.get(str(row["uuid"]))
            if entry is not None and entry.completed:
                continue
            directory = self.out_dir / row["directory"] if row.get("directory") else None
            metrics, attempt_dirs = read_run_directory(directory)
            run = sprocket.run_view(
                row | {"directory": str(directory) if directory else None},
                snapshot.sessions.get(row["session_id"]),
                tasks.get(row["id"], []),
                task_ids=self.state.task_id,
                metrics=metrics,
                attempt_dirs=attempt_dirs,
                work_root=output_prefix(self.logs_to, str(row.get("name") or row["uuid"])),
            )
            self._report(run)

    def watch(self, *, interval: float, stopping: threading.Event, on_transient: Callable[[str], None]) -> None:
        """Poll every `interval` seconds until `stopping` is set; transient faults (a
        tracker out of reach, the database busy) are retried on the next poll."""
        while not stopping.is_set():
            try:
                self.poll()
            except TRANSIENT as error:
                on_transient(str(error))
            stopping.wait(interval)

    def _report(self, run: sprocket.RunView) -> None:
        entry = self.state.runs.get(run.uuid)
        if entry is None:
            body = tracebodies.create(run_name=run.name, session_id=run.uuid, engine=ENGINE, instant=run.created_at)
            entry = self._acknowledged(run.uuid, RunState(workflow_id=self.client.create(body)))
        if not entry.begun and run.phase is not Phase.SUBMITTED:
            self.client.begin(entry.workflow_id, self._begin_body(run))
            entry.begun = True
            self._acknowledged(run.uuid, entry)
        self._report_tasks(run, entry)
        beat = run.heartbeat_at
        if beat is not None and beat.isoformat() != entry.heartbeat and not run.phase.terminal:
            self.client.heartbeat(entry.workflow_id, tracebodies.heartbeat(instant=beat))
            entry.heartbeat = beat.isoformat()
            self._acknowledged(run.uuid, entry)
        if run.phase.terminal and (run.tasks_final or _long_ago(run.completed_at)):
            # metrics.json comes before the run is marked done, but only as a best effort:
            # without it the run completes after a grace period with what its directories showed
            self._complete(run, entry)

    def _begin_body(self, run: sprocket.RunView) -> dict[str, Any]:
        started = run.started_at or run.created_at
        return tracebodies.begin(
            run_name=run.name,
            session_id=run.uuid,
            engine=ENGINE,
            started=started,
            instant=run.heartbeat_at or started,
            params=run.inputs,
            output_dir=output_prefix(self.publish_to, run),
            work_dir=output_prefix(self.logs_to, run),
            repository=run.source or None,
            command_line=f"sprocket run {run.source}" + (f" --target {run.target}" if run.target else ""),
        )

    def _report_tasks(self, run: sprocket.RunView, entry: RunState) -> None:
        changed = [t for t in run.tasks if entry.sent.get(str(t.task_id)) != _fingerprint(t)]
        processes = run.processes
        entry.peak_running = max(entry.peak_running, sum(p.running for p in processes))
        instant = run.heartbeat_at or run.created_at
        for start in range(0, len(changed), BATCH):
            batch = changed[start : start + BATCH]
            self._upload_attempt_logs(run, entry, batch)
            body = tracebodies.progress(
                # a watcher that never saw the run live cannot know its peak: sent as unknown
                tasks=batch,
                processes=processes,
                peak_running=entry.peak_running or None,
                instant=instant,
            )
            self.client.progress(entry.workflow_id, body)
            entry.sent.update({str(t.task_id): _fingerprint(t) for t in batch})
            self._acknowledged(run.uuid, entry)

    def _complete(self, run: sprocket.RunView, entry: RunState) -> None:
        if not entry.begun:  # ended before it ever ran (e.g. canceled while queued)
            self.client.begin(entry.workflow_id, self._begin_body(run))
            entry.begun = True
        if run.phase is Phase.SUCCEEDED and self.publish_to is not None and not entry.published:
            self._publish(run)
            entry.published = True
            self._acknowledged(run.uuid, entry)
        log_file = self._upload_run_log(run, entry)
        completed = run.completed_at or run.heartbeat_at or run.created_at
        body = tracebodies.complete(
            success=run.phase is Phase.SUCCEEDED,
            aborted=run.phase is Phase.ABORTED,
            completed=completed,
            processes=run.processes,
            instant=completed,
            error_message=run.error,
            log_file=log_file,
        )
        self.client.complete(entry.workflow_id, body)
        entry.completed = True
        self._acknowledged(run.uuid, entry)

    def _publish(self, run: sprocket.RunView) -> None:
        prefix = output_prefix(self.publish_to, run)
        if prefix is None or self.upload is None:
            return
        base = Path(run.directory) if run.directory else None
        publish(output_files(run.outputs, base), prefix, base, self.upload)

    def _upload_attempt_logs(self, run: sprocket.RunView, entry: RunState, tasks: list[TaskRecord]) -> None:
        """The finished attempts' logs, uploaded once each, before they are reported."""
        if self.upload is None or run.directory is None:
            return
        root, done = output_prefix(self.logs_to, run), set(entry.logs_sent)
        for task in tasks:
            if task.status not in FINISHED or task.task_id in done or not task.work_dir or not root:
                continue
            local = Path(run.directory) / task.work_dir.removeprefix(root)
            publish_task_logs(local, task.work_dir, ATTEMPT_LOGS, self.upload)
            entry.logs_sent.append(task.task_id)
            self._acknowledged(run.uuid, entry)

    def _upload_run_log(self, run: sprocket.RunView, entry: RunState) -> str | None:
        """The run's log, uploaded once, and where it is; None without `--logs-to`."""
        root = output_prefix(self.logs_to, run)
        log = Path(run.directory) / RUN_LOG if run.directory else None
        if root is None or self.upload is None or log is None or not log.is_file():
            return None
        if not entry.log_published:
            self.upload(log, parse_url(root + RUN_LOG))
            entry.log_published = True
            self._acknowledged(run.uuid, entry)
        return root + RUN_LOG

    def _acknowledged(self, uuid: str, entry: RunState) -> RunState:
        self.state.runs[uuid] = entry
        self.state.save()
        return entry
