"""Task attempts and trace bindings in the index, on both engines: batched upsert
(latest report wins, one statement), filters, sorting, pagination, and lookup."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.store import tasks, traces
from tracker.store.models import Task

RUN = "6f1c1b7e-3d0a-4c55-9a57-2d1f0c9e8b10"
T0 = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def attempt(
    task_id: int, status: TaskStatus = TaskStatus.COMPLETED, *, execution: str = "w1", **kw: object
) -> TaskRecord:
    return TaskRecord(
        execution=execution,
        task_id=task_id,
        status=status,
        process=kw.pop("process", "FASTQC"),
        name=f"FASTQC (s{task_id})",
        submitted_at=T0 + timedelta(seconds=task_id),
        **kw,
    )  # type: ignore[arg-type]


def test_upsert_replaces_an_attempt_with_its_latest_report(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        tasks.upsert_tasks(
            session, run_id=RUN, tasks=[attempt(1, TaskStatus.SUBMITTED), attempt(2, TaskStatus.RUNNING)]
        )
    done = attempt(
        1,
        TaskStatus.COMPLETED,
        exit_code=0,
        peak_rss=1 << 33,
        pcpu=187.5,
        memory_bytes=6 << 30,
        started_at=T0 + timedelta(seconds=5),
        completed_at=T0 + timedelta(minutes=3),
        duration_ms=180_000,
        work_dir="s3://lab-scratch/work/9c/41d0",
        executor="awsbatch",
        native_id="job-1",
        attempt=1,
    )
    with factory.begin() as session:
        tasks.upsert_tasks(session, run_id=RUN, tasks=[done])
    with factory() as session:
        assert tasks.get_task(session, run_id=RUN, task_id=1) == done
        assert tasks.get_task(session, run_id=RUN, task_id=2).status is TaskStatus.RUNNING  # type: ignore[union-attr]
        assert tasks.get_task(session, run_id=RUN, task_id=3) is None
        assert tasks.get_task(session, run_id="other", task_id=1) is None


def test_a_batch_holds_at_most_100_and_the_same_task_twice_keeps_the_last(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        with pytest.raises(ValueError, match="at most 100 tasks per batch, got 101"):
            tasks.upsert_tasks(session, run_id=RUN, tasks=[attempt(i) for i in range(101)])
        tasks.upsert_tasks(session, run_id=RUN, tasks=[attempt(i) for i in range(99)] + [attempt(7, TaskStatus.FAILED)])
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 99
        assert tasks.get_task(session, run_id=RUN, task_id=7).status is TaskStatus.FAILED  # type: ignore[union-attr]


def test_filters_sort_and_pages(factory: sessionmaker[Session]) -> None:
    batch = [
        attempt(1, TaskStatus.CACHED),
        attempt(2, TaskStatus.RETRIED, exit_code=137),
        attempt(3, TaskStatus.COMPLETED, attempt=2, exit_code=0),
        attempt(4, TaskStatus.RUNNING, process="STAR"),
        attempt(5, TaskStatus.COMPLETED, process="STAR", duration_ms=10),
    ]
    with factory.begin() as session:
        tasks.upsert_tasks(session, run_id=RUN, tasks=batch)
        tasks.upsert_tasks(session, run_id="another-run", tasks=[attempt(1)])
    with factory() as session:
        page, total = tasks.list_tasks(session, run_id=RUN)
        assert [t.task_id for t in page] == [1, 2, 3, 4, 5]
        assert total == 5
        page, total = tasks.list_tasks(session, run_id=RUN, process="FASTQC", status=["COMPLETED", "RETRIED"])
        assert [(t.task_id, t.status) for t in page] == [(2, "RETRIED"), (3, "COMPLETED")]
        assert total == 2
        page, total = tasks.list_tasks(session, run_id=RUN, status="CACHED")
        assert [t.task_id for t in page] == [1]
        page, total = tasks.list_tasks(session, run_id=RUN, sort="-task_id", limit=2, offset=1)
        assert [t.task_id for t in page] == [4, 3]
        assert total == 5
        page, _ = tasks.list_tasks(session, run_id=RUN, sort="-duration_ms")  # nulls last either way
        assert page[0].task_id == 5
        with pytest.raises(ValueError, match="cannot sort by 'size'"):
            tasks.list_tasks(session, run_id=RUN, sort="size")
        with pytest.raises(ValueError, match="unknown task status 'DONE'"):
            tasks.list_tasks(session, run_id=RUN, status="DONE")


def test_executions_of_a_resumed_run_keep_their_own_task_ids(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        tasks.upsert_tasks(session, run_id=RUN, tasks=[attempt(1, TaskStatus.FAILED, execution="first")])
    with factory.begin() as session:
        tasks.upsert_tasks(session, run_id=RUN, tasks=[attempt(1, TaskStatus.CACHED, execution="second")])
    with factory() as session:
        assert tasks.get_task(session, run_id=RUN, task_id=1).execution == "second"  # type: ignore[union-attr]
        assert tasks.get_task(session, run_id=RUN, task_id=1, execution="first").status is TaskStatus.FAILED  # type: ignore[union-attr]
        _, total = tasks.list_tasks(session, run_id=RUN)
        assert total == 2
        page, _ = tasks.list_tasks(session, run_id=RUN, execution="first")
        assert [t.status for t in page] == ["FAILED"]


def test_strings_as_nextflow_sends_them_survive(factory: sessionmaker[Session]) -> None:
    tag = ("sample_" + "é🧬'%_\\" * 60)[:255]
    record = replace(attempt(9), tag=tag, name=f"P ({tag})", hash="3a/7f2b1c")
    with factory.begin() as session:
        tasks.upsert_tasks(session, run_id=RUN, tasks=[record])
    with factory() as session:
        assert tasks.get_task(session, run_id=RUN, task_id=9) == record


def test_bindings_find_the_latest_execution_of_a_session(factory: sessionmaker[Session]) -> None:
    first = traces.TraceBinding(
        workflow_id="a" * 16,
        run_id=RUN,
        namespace="lab",
        name="sad-einstein",
        owner="alice",
        session_id="s-1",
        reported={"spec": {"runName": "sad_einstein"}},
    )
    with factory.begin() as session:
        traces.add_binding(session, binding=first)
    with factory.begin() as session:
        traces.add_binding(session, binding=replace(first, workflow_id="b" * 16))
        traces.set_reported(session, workflow_id="b" * 16, reported={"status": {"phase": "Running"}})
    with factory() as session:
        assert traces.get_binding(session, workflow_id="a" * 16) == first
        latest = traces.latest_for_session(session, namespace="lab", session_id="s-1")
        assert latest is not None
        assert latest.workflow_id == "b" * 16
        assert latest.reported == {"status": {"phase": "Running"}}
        assert traces.latest_for_session(session, namespace="other", session_id="s-1") is None
        assert traces.get_binding(session, workflow_id="c" * 16) is None
