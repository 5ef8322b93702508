"""Per-run coalescing of status reports (tracker.domain.coalesce): a second's worth
of reports of many runs is one write per run per interval; phases go out at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.coalesce import StatusCoalescer

T0 = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


def test_reports_merge_until_the_interval_and_phases_go_at_once() -> None:
    coalescer = StatusCoalescer(timedelta(seconds=15))
    coalescer.add("a", {"lastHeartbeatTime": "t1", "processes": [{"name": "P", "running": 1}]}, T0)
    coalescer.add(
        "a", {"lastHeartbeatTime": "t2", "processes": [{"name": "P", "running": 2}]}, T0 + timedelta(seconds=1)
    )
    assert coalescer.take_due(T0 + timedelta(seconds=14)) == []
    assert coalescer.next_due() == T0 + timedelta(seconds=15)
    assert coalescer.take_due(T0 + timedelta(seconds=15)) == [
        ("a", {"lastHeartbeatTime": "t2", "processes": [{"name": "P", "running": 2}]})
    ]
    assert len(coalescer) == 0
    assert coalescer.next_due() is None
    coalescer.add("b", {"lastHeartbeatTime": "t3"}, T0)
    coalescer.add("b", {"phase": "Succeeded", "completedAt": "t4"}, T0 + timedelta(seconds=2))
    assert coalescer.next_due() == T0
    assert coalescer.take_due(T0 + timedelta(seconds=2)) == [
        ("b", {"lastHeartbeatTime": "t3", "phase": "Succeeded", "completedAt": "t4"})
    ]


def test_a_failed_write_is_retried_under_newer_reports() -> None:
    coalescer = StatusCoalescer(timedelta(seconds=10))
    coalescer.add("a", {"lastHeartbeatTime": "t1", "phase": "Running"}, T0)
    [(key, patch)] = coalescer.take_due(T0)
    coalescer.add("a", {"lastHeartbeatTime": "t2"}, T0 + timedelta(seconds=1))
    coalescer.give_back(key, patch, T0 + timedelta(seconds=1))
    assert coalescer.take_due(T0 + timedelta(seconds=1)) == [("a", {"lastHeartbeatTime": "t2", "phase": "Running"})]
    coalescer.add("c", {"x": 1}, T0)
    assert coalescer.take("c") == {"x": 1}
    assert coalescer.take("c") is None
    coalescer.add("d", {"y": 1}, T0)
    assert coalescer.drain() == [("d", {"y": 1})]
    assert len(coalescer) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 19), st.integers(0, 3)), min_size=1, max_size=400))
def test_writes_per_run_are_bounded_by_time_not_by_reports(reports: list[tuple[int, int]]) -> None:
    """Reports once a second for 10 minutes (in any order of runs): each run is
    written at most once per interval plus once per phase change, and the last
    report of each run is what was written last."""
    coalescer = StatusCoalescer(timedelta(seconds=15))
    writes: dict[int, list[dict[str, int]]] = {}
    last: dict[int, int] = {}
    for second in range(600):
        run, value = reports[second % len(reports)]
        coalescer.add(run, {"n": second, "v": value}, T0 + timedelta(seconds=second))
        last[run] = second
        for key, patch in coalescer.take_due(T0 + timedelta(seconds=second)):
            writes.setdefault(key, []).append(patch)  # type: ignore[arg-type]
    for key, patch in coalescer.take_due(T0 + timedelta(seconds=700)):
        writes.setdefault(key, []).append(patch)  # type: ignore[arg-type]
    for run, patches in writes.items():
        assert len(patches) <= 600 // 15 + 1
        assert patches[-1]["n"] == last[run]
    assert set(writes) == set(last)
