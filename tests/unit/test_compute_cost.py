"""The compute cost estimate (tracker.domain.compute_cost): prices by machine type, then
executor, then default; billed time; cached attempts free, failed ones billed;
efficiency and waste; and, for any attempts, totals that are the sum of the processes,
never negative, with efficiencies in range."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.compute_cost import (
    GIB,
    HOUR_MS,
    NO_TASKS,
    NOT_SUCCEEDED,
    RESUMED,
    ComputePrices,
    Rate,
    billed_ms,
    estimate,
    why_not_estimated,
)
from tracker.domain.tasks import TaskRecord, TaskStatus

PRICES = ComputePrices(
    default=Rate(cpu_hour=1.0, gib_hour=0.1),
    executors={"awsbatch": Rate(cpu_hour=0.5, gib_hour=0.05)},
    machine_types={"m5.large": Rate(cpu_hour=0.25, gib_hour=0.02)},
)


def attempt(
    task_id: int, process: str = "P", status: TaskStatus = TaskStatus.COMPLETED, **values: object
) -> TaskRecord:
    return TaskRecord("e1", task_id, status, process=process, **values)  # type: ignore[arg-type]


def test_a_machine_type_wins_over_its_executor_and_an_executor_over_the_default() -> None:
    assert PRICES.rate(executor="awsbatch", machine_type="m5.large") == Rate(0.25, 0.02)
    assert PRICES.rate(executor="awsbatch", machine_type="c6i.xlarge") == Rate(0.5, 0.05)
    assert PRICES.rate(executor="local", machine_type=None) == Rate(1.0, 0.1)


def test_one_hour_of_two_cpus_and_four_gib() -> None:
    report = estimate([attempt(1, cpus=2, memory_bytes=4 * GIB, realtime_ms=HOUR_MS, executor="awsbatch")], PRICES)
    assert report.total.cost == pytest.approx(2 * 0.5 + 4 * 0.05)
    assert (report.total.cpu_hours, report.total.gib_hours) == (pytest.approx(2), pytest.approx(4))


def test_realtime_is_billed_else_duration_and_cached_attempts_are_free() -> None:
    assert billed_ms(attempt(1, realtime_ms=1000, duration_ms=5000)) == 1000
    assert billed_ms(attempt(1, duration_ms=5000)) == 5000
    assert billed_ms(attempt(1)) == 0
    assert billed_ms(attempt(1, status=TaskStatus.CACHED, realtime_ms=1000)) == 0
    report = estimate(
        [
            attempt(1, status=TaskStatus.CACHED, cpus=4, realtime_ms=HOUR_MS),
            attempt(2, status=TaskStatus.RETRIED, cpus=1, realtime_ms=HOUR_MS),
            attempt(3, cpus=1, realtime_ms=HOUR_MS),
        ],
        PRICES,
    )
    line = report.total
    assert (line.attempts, line.cached, line.billed, line.unsuccessful) == (3, 1, 2, 1)
    assert line.cost == pytest.approx(2.0)
    assert line.unsuccessful_cost == pytest.approx(1.0)


def test_missing_requests_count_as_one_cpu_and_no_memory() -> None:
    report = estimate([attempt(1, realtime_ms=HOUR_MS)], PRICES)
    assert report.total.cost == pytest.approx(1.0)
    assert report.total.cpu_efficiency is None
    assert report.total.memory_efficiency is None
    assert report.total.wasted_cost == 0


def test_efficiency_is_weighted_by_time_and_waste_is_priced() -> None:
    report = estimate(
        [
            attempt(1, cpus=4, pcpu=400.0, memory_bytes=8 * GIB, peak_rss=8 * GIB, realtime_ms=HOUR_MS),
            attempt(2, cpus=4, pcpu=100.0, memory_bytes=8 * GIB, peak_rss=2 * GIB, realtime_ms=3 * HOUR_MS),
        ],
        PRICES,
    )
    line = report.total
    assert line.cpu_efficiency == pytest.approx((4 * 1 + 1 * 3) / (4 * 1 + 4 * 3))
    assert line.memory_efficiency == pytest.approx((8 * 1 + 2 * 3) / (8 * 1 + 8 * 3))
    assert (line.unused_cpu_hours, line.unused_gib_hours) == (pytest.approx(9), pytest.approx(18))
    assert line.wasted_cost == pytest.approx(9 * 1.0 + 18 * 0.1)
    assert (line.peak_rss, line.memory_bytes, line.longest_ms) == (8 * GIB, 8 * GIB, 3 * HOUR_MS)
    assert line.mean_ms == 2 * HOUR_MS


def test_processes_are_ranked_by_cost_slowness_and_waste() -> None:
    report = estimate(
        [
            attempt(1, "A", cpus=1, pcpu=100.0, realtime_ms=10 * HOUR_MS),  # dear, long, no waste
            attempt(2, "B", cpus=8, pcpu=100.0, realtime_ms=HOUR_MS),  # 7 CPU-hours unused
            attempt(3, "C", cpus=1, realtime_ms=60_000),
            attempt(4, "D", status=TaskStatus.CACHED),
        ],
        PRICES,
    )
    assert [p.process for p in report.processes] == ["A", "B", "C", "D"]
    assert [p.process for p in report.slowest] == ["A", "B", "C"]
    assert [p.process for p in report.most_wasteful] == ["B"]


@pytest.mark.parametrize(
    ("succeeded", "resumed", "has_tasks", "reason"),
    [
        (True, False, True, None),
        (False, False, True, NOT_SUCCEEDED),
        (True, True, True, RESUMED),
        (True, False, False, NO_TASKS),
    ],
)
def test_only_succeeded_runs_never_resumed_have_an_estimate(
    succeeded: bool, resumed: bool, has_tasks: bool, reason: str | None
) -> None:
    assert why_not_estimated(succeeded=succeeded, resumed=resumed, has_tasks=has_tasks) == reason


maybe = st.none() | st.integers(-(2**40), 2**40)
attempts = st.builds(
    TaskRecord,
    execution=st.just("e1"),
    task_id=st.integers(0, 10**6),
    status=st.sampled_from(TaskStatus),
    process=st.none() | st.sampled_from(["A", "B", "C"]),
    realtime_ms=maybe,
    duration_ms=maybe,
    cpus=st.none() | st.integers(-2, 256),
    memory_bytes=maybe,
    pcpu=st.none() | st.floats(-100, 100_000, allow_nan=False),
    peak_rss=maybe,
    executor=st.none() | st.sampled_from(["awsbatch", "local"]),
    machine_type=st.none() | st.sampled_from(["m5.large", "r6i.xlarge"]),
)


@given(st.lists(attempts, max_size=40))
def test_any_attempts_add_up_and_nothing_is_negative(tasks: list[TaskRecord]) -> None:
    report = estimate(tasks, PRICES)
    total = report.total
    assert total.attempts == len(tasks) == sum(p.attempts for p in report.processes)
    for name in ("cost", "cpu_hours", "gib_hours", "wasted_cost", "unsuccessful_cost", "billed_hours"):
        assert math.isclose(
            getattr(total, name), sum(getattr(p, name) for p in report.processes), rel_tol=1e-9, abs_tol=1e-9
        )
    for line in (total, *report.processes):
        assert line.cost >= 0
        assert 0 <= line.wasted_cost <= line.cost + 1e-9  # what went unused was paid for
        assert line.unsuccessful_cost <= line.cost + 1e-9
        assert line.cpu_efficiency is None or line.cpu_efficiency >= 0
        assert line.memory_efficiency is None or line.memory_efficiency >= 0
        assert line.billed + line.cached <= line.attempts
    costs = [p.cost for p in report.processes]
    assert costs == sorted(costs, reverse=True)
