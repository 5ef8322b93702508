"""Per-process aggregates of a run's task attempts, computed by the database (SQL
aggregates over the `(run_id, process)` index, never every row loaded): the
processes that have attempts, and one process's `ProcessStats`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tracker.domain.tasks import TaskStatus
from tracker.domain.taskstats import ProcessStats, Spread, median_of, median_positions
from tracker.store.models import Task


def process_names(session: Session, *, run_id: str) -> list[str]:
    """The processes the run's attempts belong to, by name."""
    query = select(Task.process).where(Task.run_id == run_id, Task.process.is_not(None)).distinct()
    return sorted(name for name in session.scalars(query) if name is not None)


def process_stats(session: Session, *, run_id: str, process: str) -> ProcessStats | None:
    """The process's numbers, or None when the run has no attempt of it."""
    mine = [Task.run_id == run_id, Task.process == process]
    counts = session.execute(select(Task.status, func.count()).where(*mine).group_by(Task.status)).all()
    if not counts:
        return None
    executed = [*mine, Task.status != TaskStatus.CACHED.value]
    share = cast(Task.pcpu, Float) / (100.0 * Task.cpus)
    peak_share = cast(Task.peak_rss, Float) / cast(Task.memory_bytes, Float)
    row = session.execute(
        select(
            func.count().filter(Task.attempt > 1),
            func.max(Task.attempt),
            func.min(Task.cpus),
            func.max(Task.cpus),
            func.min(Task.memory_bytes),
            func.max(Task.memory_bytes),
            func.avg(Task.pcpu),
            func.max(Task.pcpu),
            func.avg(share).filter(Task.cpus > 0),
            func.avg(Task.peak_rss),
            func.max(Task.peak_rss),
            func.max(peak_share).filter(Task.memory_bytes > 0),
            func.sum(Task.read_bytes),
            func.sum(Task.write_bytes),
        ).where(*executed)
    ).one()
    return ProcessStats(
        process=process,
        by_status=dict(counts),
        retry_attempts=row[0] or 0,
        max_attempt=row[1] or 0,
        duration=_spread(session, executed, Task.duration_ms),
        realtime=_spread(session, executed, Task.realtime_ms),
        cpus_low=row[2],
        cpus_high=row[3],
        memory_low=row[4],
        memory_high=row[5],
        pcpu_mean=_number(row[6]),
        pcpu_max=_number(row[7]),
        cpu_share=_number(row[8]),
        peak_rss_mean=_number(row[9]),
        peak_rss_max=row[10],
        memory_share=_number(row[11]),
        read_bytes=_whole(row[12]),
        write_bytes=_whole(row[13]),
    )


def _spread(session: Session, where: list[Any], column: InstrumentedAttribute[int | None]) -> Spread:
    """Min, median and max of `column`: one aggregate, then the one or two middle
    values read in the column's order (a sort inside the database)."""
    having = [*where, column.is_not(None)]
    count, low, high = session.execute(
        select(func.count(column), func.min(column), func.max(column)).where(*having)
    ).one()
    positions = median_positions(count)
    if not positions:
        return Spread()
    middle = session.scalars(
        select(column).where(*having).order_by(column).offset(positions[0]).limit(len(positions))
    ).all()
    return Spread(count=count, low=low, median=median_of([float(v) for v in middle if v is not None]), high=high)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _whole(value: Any) -> int | None:
    return None if value is None else int(value)
