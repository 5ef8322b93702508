"""Sprocket's provenance rows to what the tracker reports (tracker.domain.sprocket):
phases, times in both of Sprocket's spellings, retried and cached attempts, per-call
counts, and the rows it refuses, naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import sprocket
from tracker.domain.records import Phase, ProcessCounts
from tracker.domain.tasks import TaskStatus

SESSION = {"id": 1, "uuid": "sess-1", "heartbeat_at": "2026-12-01T23:00:30.123456789Z"}


def run_row(**changes: object) -> dict[str, object]:
    return {
        "id": 7,
        "uuid": "run-uuid-7",
        "session_id": 1,
        "name": "hello-run",
        "source": "hello.wdl",
        "target": "hello",
        "status": "running",
        "inputs": '{"hello.who": "world"}',
        "outputs": None,
        "error": None,
        "directory": "/out/runs/hello/2026-12-01_230000",
        "started_at": "2026-12-01T23:00:01Z",
        "completed_at": None,
        "created_at": "2026-12-01 23:00:00",
    } | changes


def view(row: dict[str, object], tasks: list[dict[str, object]] | None = None) -> sprocket.RunView:
    """The run as the watcher maps it, task ids numbered in order of first sight."""
    ids: dict[str, int] = {}
    return sprocket.run_view(row, SESSION, tasks or [], task_ids=lambda _run, key: ids.setdefault(key, len(ids) + 1))


def task_row(task_id: int, **changes: object) -> dict[str, object]:
    return {
        "task_id": task_id,
        "name": f"task-{task_id}",
        "run_id": 7,
        "status": "completed",
        "exit_status": 0,
        "call_id": "say",
        "attempt": 1,
        "retry_cause": None,
        "created_at": "2026-12-01 23:00:02",
        "started_at": "2026-12-01T23:00:03.5Z",
        "completed_at": "2026-12-01T23:00:05.5+00:00",
    } | changes


@pytest.mark.parametrize(
    ("status", "phase"),
    [
        ("queued", Phase.SUBMITTED),
        ("analyzing", Phase.SUBMITTED),
        ("running", Phase.RUNNING),
        ("canceling", Phase.RUNNING),
        ("orphaned", Phase.RUNNING),
        ("completed", Phase.SUCCEEDED),
        ("failed", Phase.FAILED),
        ("canceled", Phase.ABORTED),
    ],
)
def test_every_run_status_has_its_phase(status: str, phase: Phase) -> None:
    assert view(run_row(status=status)).phase is phase


def test_a_run_reads_its_times_params_and_heartbeat() -> None:
    run = view(run_row(), [task_row(1)])
    assert run.created_at == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert run.started_at == datetime(2026, 12, 1, 23, 0, 1, tzinfo=UTC)
    assert run.heartbeat_at == datetime(2026, 12, 1, 23, 0, 30, 123456, tzinfo=UTC)
    assert run.inputs == {"hello.who": "world"}
    assert (run.session_uuid, run.name) == ("sess-1", "hello-run")
    [task] = run.tasks
    assert (task.execution, task.task_id, task.status, task.attempt) == ("run-uuid-7", 1, TaskStatus.COMPLETED, 2)
    assert (task.duration_ms, task.realtime_ms, task.exit_code) == (3500, 2000, 0)


def test_a_retried_attempt_a_cached_one_and_scatter_shards() -> None:
    rows = [
        task_row(1, status="failed", exit_status=137, retry_cause='{"kind": "oom"}', call_id="align-0"),
        task_row(2, call_id="align-0", attempt=2),
        task_row(3, call_id="align-1"),
        task_row(4, status="cached", call_id="index", attempt=0),
        task_row(5, status="running", call_id="align-2", completed_at=None, exit_status=None),
    ]
    run = view(run_row(), rows)
    assert [(t.process, t.tag, t.status) for t in run.tasks] == [
        ("align", "align-0", TaskStatus.RETRIED),
        ("align", "align-0", TaskStatus.COMPLETED),
        ("align", "align-1", TaskStatus.COMPLETED),
        ("index", None, TaskStatus.CACHED),
        ("align", "align-2", TaskStatus.RUNNING),
    ]
    assert run.processes == [
        ProcessCounts(name="align", succeeded=2, retried=1, running=1),
        ProcessCounts(name="index", cached=1),
    ]
    assert [t.task_id for t in run.tasks] == [1, 2, 3, 4, 5]


METRICS = {
    "calls": [
        {"call_id": "prepare", "attempts": [{"name": "prepare-x", "attempt": 0, "status": "completed",
                                            "exit_status": 0, "wall_time_ms": 1500, "queued_ms": 500,
                                            "constraints": {"cpu": 2.0, "memory": 2147483648}}]},
        {"call_id": "break_down", "attempts": [{"name": "break_down-y", "attempt": 0, "status": "completed",
                                               "exit_status": 3, "wall_time_ms": 10, "queued_ms": 0}]},
    ]
}  # fmt: skip


def test_sprocket_run_attempts_come_from_the_run_directory_live_then_from_metrics() -> None:
    started = datetime(2026, 12, 1, 23, 0, 2, tzinfo=UTC)
    dirs = [sprocket.AttemptDir("prepare", 0, started)]
    ids: dict[str, int] = {}

    def task_ids(_run: str, key: str) -> int:
        return ids.setdefault(key, len(ids) + 1)

    live = sprocket.run_view(run_row(), SESSION, [], task_ids=task_ids, attempt_dirs=dirs)
    assert [(t.task_id, t.process, t.status, t.started_at) for t in live.tasks] == [
        (1, "prepare", TaskStatus.RUNNING, started)
    ]
    done = sprocket.run_view(
        run_row(status="failed"), SESSION, [], task_ids=task_ids, metrics=METRICS, attempt_dirs=dirs
    )
    prepare, broken = done.tasks
    assert (prepare.task_id, prepare.status, prepare.exit_code) == (1, TaskStatus.COMPLETED, 0)
    assert (prepare.realtime_ms, prepare.duration_ms, prepare.cpus, prepare.memory_bytes) == (1500, 2000, 2, 2**31)
    assert prepare.completed_at == datetime(2026, 12, 1, 23, 0, 3, 500000, tzinfo=UTC)
    assert (broken.task_id, broken.status, broken.exit_code) == (2, TaskStatus.FAILED, 3)
    assert {t.work_dir for t in done.tasks} == {None}  # no logs prefix: no work dir


def test_with_a_logs_prefix_each_attempt_has_its_directory_there_as_work_dir() -> None:
    started = datetime(2026, 12, 1, 23, 0, 2, tzinfo=UTC)
    ids: dict[str, int] = {}
    view = sprocket.run_view(
        run_row(status="failed"),
        SESSION,
        [],
        task_ids=lambda _run, key: ids.setdefault(key, len(ids) + 1),
        metrics=METRICS,
        attempt_dirs=[sprocket.AttemptDir("prepare", 0, started)],
        work_root="s3://logs/work/run-1/",
    )
    assert [(t.process, t.work_dir) for t in view.tasks] == [
        ("prepare", "s3://logs/work/run-1/calls/prepare/attempts/0/"),
        ("break_down", "s3://logs/work/run-1/calls/break_down/attempts/0/"),
    ]
    assert sprocket.attempt_path(sprocket.attempt_key("align-2", 1)) == "calls/align-2/attempts/1/"


@pytest.mark.parametrize(
    ("table", "change", "message"),
    [
        ("runs", {"status": "exploded"}, r"runs\[7\]\.status: unknown run status 'exploded'"),
        ("runs", {"inputs": "{not json"}, r"runs\[7\]\.inputs: not JSON"),
        ("runs", {"started_at": "yesterday"}, r"runs\[7\]\.started_at"),
        ("tasks", {"status": "vanished"}, r"tasks\[task-1\]\.status: unknown task status 'vanished'"),
    ],
)
def test_rows_it_cannot_read_are_refused_naming_the_field(table: str, change: dict, message: str) -> None:
    row = run_row(**change) if table == "runs" else run_row()
    tasks = [task_row(1, **change)] if table == "tasks" else []
    with pytest.raises(sprocket.SprocketRowError, match=message):
        view(row, tasks)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1)), st.booleans(), st.booleans())
def test_both_time_spellings_read_as_the_same_utc_moment(moment: datetime, with_t: bool, with_offset: bool) -> None:
    text = moment.isoformat(sep="T" if with_t else " ") + ("Z" if with_offset else "")
    assert sprocket.time(text, where="t") == moment.replace(tzinfo=UTC)
