"""The columns of a run's task attempts the compute cost estimate reads, streamed in
batches (a run of tens of thousands of attempts is never loaded as ORM objects)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.store.models import Task

COST_FIELDS = (
    "execution",
    "task_id",
    "status",
    "process",
    "realtime_ms",
    "duration_ms",
    "cpus",
    "memory_bytes",
    "pcpu",
    "peak_rss",
    "executor",
    "machine_type",
)
BATCH = 2_000


def cost_inputs(session: Session, *, run_id: str) -> Iterator[TaskRecord]:
    """Every attempt of the run, with only COST_FIELDS set, in no particular order.
    Consume it inside the session."""
    query = select(*(getattr(Task, f) for f in COST_FIELDS)).where(Task.run_id == run_id)
    for row in session.execute(query.execution_options(yield_per=BATCH)):
        values = dict(zip(COST_FIELDS, row, strict=True))
        values["status"] = TaskStatus(values["status"])
        yield TaskRecord(**values)
