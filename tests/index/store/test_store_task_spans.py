"""The timeline's read of task attempts (`list_task_spans`), on both engines: only the
columns it draws, every execution's attempts by task id, a limit, and the total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.store import tasks

RUN, OTHER = "6f1c1b7e-3d0a-4c55-9a57-2d1f0c9e8b20", "6f1c1b7e-3d0a-4c55-9a57-2d1f0c9e8b21"
T0 = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


def full(task_id: int, execution: str = "w1") -> TaskRecord:
    return TaskRecord(
        execution,
        task_id,
        TaskStatus.RETRIED,
        name=f"ALIGN ({task_id})",
        process="NF:ALIGN",
        attempt=2,
        submitted_at=T0 + timedelta(seconds=task_id),
        started_at=T0 + timedelta(seconds=task_id + 1),
        completed_at=T0 + timedelta(seconds=task_id + 9),
        exit_code=137,
        peak_rss=1 << 30,
        work_dir="s3://scratch/work/ab/cd",
        cpus=4,
    )


def test_spans_carry_only_what_the_timeline_draws(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        tasks.upsert_tasks(session, run_id=RUN, tasks=[full(3, "w2"), full(2), full(1), full(1, "w2")])
        tasks.upsert_tasks(session, run_id=OTHER, tasks=[full(1)])
    with factory() as session:
        found, total = tasks.list_task_spans(session, run_id=RUN, limit=3)
    assert total == 4
    assert [(t.execution, t.task_id) for t in found] == [("w1", 1), ("w1", 2), ("w2", 1)]
    first = found[0]
    assert first == TaskRecord(
        "w1",
        1,
        TaskStatus.RETRIED,
        name="ALIGN (1)",
        process="NF:ALIGN",
        attempt=2,
        submitted_at=T0 + timedelta(seconds=1),
        started_at=T0 + timedelta(seconds=2),
        completed_at=T0 + timedelta(seconds=10),
    )  # exit code, memory, work dir and the rest are not read
    assert first.status is TaskStatus.RETRIED
    assert first.completed_at is not None
    assert first.completed_at.tzinfo is not None
