"""The cost estimate's read of task attempts (`task_costs.cost_inputs`), on both
engines: only the columns it prices, every execution of the run and no other run's,
streamed for a run of more than 10,000 attempts; and the machine type kept."""

from __future__ import annotations

from types import GeneratorType

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.compute_cost import GIB, HOUR_MS, ComputePrices, Rate, estimate
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.store import task_costs, tasks

RUN, OTHER = "7a2c1b7e-3d0a-4c55-9a57-2d1f0c9e8b20", "7a2c1b7e-3d0a-4c55-9a57-2d1f0c9e8b21"
PRICES = ComputePrices(default=Rate(cpu_hour=0.1, gib_hour=0.01), machine_types={"m5.xlarge": Rate(0.05, 0.005)})


def full(
    task_id: int, execution: str = "w1", status: TaskStatus = TaskStatus.COMPLETED, **values: object
) -> TaskRecord:
    fields: dict[str, object] = {
        "name": f"ALIGN ({task_id})",
        "process": "NF:ALIGN",
        "tag": "sample",
        "hash": "ab/cdef01",
        "realtime_ms": HOUR_MS,
        "duration_ms": 2 * HOUR_MS,
        "cpus": 4,
        "memory_bytes": 8 * GIB,
        "pcpu": 200.0,
        "peak_rss": 2 * GIB,
        "executor": "awsbatch",
        "machine_type": "m5.xlarge",
        "work_dir": "s3://scratch/work/ab/cd",
        "exit_code": 0,
    }
    return TaskRecord(execution, task_id, status, **(fields | values))  # type: ignore[arg-type]


def test_cost_inputs_carry_only_what_is_priced(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        tasks.upsert_tasks(session, run_id=RUN, tasks=[full(1), full(1, "w2", status=TaskStatus.CACHED)])
        tasks.upsert_tasks(session, run_id=OTHER, tasks=[full(1)])
    with factory() as session:
        found = sorted(task_costs.cost_inputs(session, run_id=RUN), key=lambda t: t.execution)
    assert found == [
        TaskRecord(
            "w1",
            1,
            TaskStatus.COMPLETED,
            process="NF:ALIGN",
            realtime_ms=HOUR_MS,
            duration_ms=2 * HOUR_MS,
            cpus=4,
            memory_bytes=8 * GIB,
            pcpu=200.0,
            peak_rss=2 * GIB,
            executor="awsbatch",
            machine_type="m5.xlarge",
        ),  # name, tag, hash, work dir and exit code are not read
        TaskRecord(
            "w2",
            1,
            TaskStatus.CACHED,
            process="NF:ALIGN",
            realtime_ms=HOUR_MS,
            duration_ms=2 * HOUR_MS,
            cpus=4,
            memory_bytes=8 * GIB,
            pcpu=200.0,
            peak_rss=2 * GIB,
            executor="awsbatch",
            machine_type="m5.xlarge",
        ),
    ]
    assert found[1].status is TaskStatus.CACHED


def test_the_machine_type_is_kept(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        tasks.upsert_tasks(session, run_id=RUN, tasks=[full(1), full(2, machine_type=None)])
    with factory() as session:
        assert [tasks.get_task(session, run_id=RUN, task_id=i).machine_type for i in (1, 2)] == ["m5.xlarge", None]  # type: ignore[union-attr]


@pytest.mark.parametrize("count", [12_345])
def test_a_run_of_more_than_ten_thousand_attempts_is_streamed(factory: sessionmaker[Session], count: int) -> None:
    with factory.begin() as session:
        for start in range(0, count, tasks.MAX_BATCH):
            batch = range(start, min(count, start + tasks.MAX_BATCH))
            tasks.upsert_tasks(
                session,
                run_id=RUN,
                tasks=[full(i, machine_type=None if i % 2 else "m5.xlarge", process=f"P{i % 3}") for i in batch],
            )
    with factory() as session:
        stream = task_costs.cost_inputs(session, run_id=RUN)
        assert isinstance(stream, GeneratorType)
        report = estimate(stream, PRICES)
    odd, even = count // 2, count - count // 2
    # an hour of 4 CPUs and 8 GiB: 0.4 + 0.08 by default, 0.2 + 0.04 on an m5.xlarge
    assert report.total.attempts == count
    assert report.total.cost == pytest.approx(odd * 0.48 + even * 0.24)
    assert report.total.cpu_efficiency == pytest.approx(0.5)
    assert report.total.memory_efficiency == pytest.approx(0.25)
    assert sorted(p.process for p in report.processes) == ["P0", "P1", "P2"]
