"""Disconnected and Stalled, by example and as a state machine over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import conditions
from tracker.domain.records import Phase, ProcessCounts
from tracker.domain.runhealth import RunSignals, all_tasks_terminal, assess, tasks_terminal_since

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)
HEARTBEAT = timedelta(seconds=300)
STALL = timedelta(seconds=600)

running = ProcessCounts("ALIGN", succeeded=3, running=2)
done = ProcessCounts("ALIGN", succeeded=5, failed=1)


def signals(**overrides: object) -> RunSignals:
    base: dict[str, object] = {
        "phase": Phase.RUNNING,
        "created_at": T0,
        "last_heartbeat": T0,
        "processes": (running,),
        "tasks_terminal_since": None,
        "heartbeat_timeout": HEARTBEAT,
        "stalled_after": STALL,
    }
    base.update(overrides)
    return RunSignals(**base)  # type: ignore[arg-type]


def test_heartbeat_within_timeout_is_connected() -> None:
    health = assess(signals(), T0 + HEARTBEAT - timedelta(seconds=1))
    assert (health.disconnected, health.state) == (False, "Running")
    assert health.next_change_at == T0 + HEARTBEAT


def test_missing_heartbeat_disconnects_at_the_threshold() -> None:
    health = assess(signals(), T0 + HEARTBEAT)
    assert health.disconnected
    assert health.state == "Disconnected"


def test_no_heartbeat_ever_counts_from_creation() -> None:
    assert assess(signals(last_heartbeat=None, phase=None), T0 + HEARTBEAT).state == "Disconnected"
    assert assess(signals(last_heartbeat=None, phase=None), T0).state == "Submitted"


def test_terminal_runs_are_never_disconnected_or_stalled() -> None:
    for phase in (Phase.SUCCEEDED, Phase.FAILED, Phase.ABORTED):
        health = assess(signals(phase=phase, tasks_terminal_since=T0), T0 + timedelta(days=1))
        assert (health.disconnected, health.stalled, health.state) == (False, False, str(phase))
        assert health.next_change_at is None


def test_stalled_after_every_task_terminal_for_the_threshold() -> None:
    s = signals(processes=(done,), tasks_terminal_since=T0)
    assert not assess(s, T0 + STALL - timedelta(seconds=1)).stalled
    late = assess(s.__class__(**{**s.__dict__, "last_heartbeat": T0 + STALL}), T0 + STALL)
    assert late.stalled
    assert late.state == "Stalled"


def test_disconnected_wins_the_display_state() -> None:
    s = signals(processes=(done,), tasks_terminal_since=T0)
    assert assess(s, T0 + STALL).state == "Disconnected"


def test_tasks_terminal_since_is_kept_set_and_cleared() -> None:
    assert tasks_terminal_since((running,), None, T0) is None
    assert tasks_terminal_since((done,), None, T0) == T0
    assert tasks_terminal_since((done,), T0, T0 + STALL) == T0
    assert tasks_terminal_since((), None, T0) is None  # no task seen: never stalled
    assert not all_tasks_terminal((ProcessCounts("X"),))


def test_conditions_keep_transition_time_while_unchanged() -> None:
    s = signals()
    first = assess(s, T0 + HEARTBEAT).conditions([], T0 + HEARTBEAT, s)
    again = assess(s, T0 + HEARTBEAT * 2).conditions(first, T0 + HEARTBEAT * 2, s)
    assert first == again
    disconnected = conditions.find(again, "Disconnected")
    assert disconnected is not None
    assert disconnected["status"] == "True"
    assert disconnected["reason"] == "HeartbeatMissing"
    assert disconnected["lastTransitionTime"] == "2026-05-13T19:05:00Z"

    recovered_signals = signals(last_heartbeat=T0 + HEARTBEAT * 2)
    recovered = assess(recovered_signals, T0 + HEARTBEAT * 2).conditions(again, T0 + HEARTBEAT * 2, recovered_signals)
    changed = conditions.transitions(again, recovered)
    assert [(c["type"], c["status"], c["reason"]) for c in changed] == [("Disconnected", "False", "HeartbeatReceived")]


heartbeat_gaps = st.lists(st.integers(min_value=1, max_value=900), min_size=1, max_size=20)


@given(heartbeat_gaps, st.integers(min_value=1, max_value=900))
def test_disconnected_exactly_when_the_gap_reaches_the_timeout(gaps: list[int], timeout: int) -> None:
    """Replay heartbeats; at each one, just before it, the run was disconnected iff the
    gap since the previous heartbeat reached the timeout."""
    last = T0
    for gap in gaps:
        s = signals(last_heartbeat=last, heartbeat_timeout=timedelta(seconds=timeout))
        just_before = last + timedelta(seconds=gap) - timedelta(microseconds=1)
        health = assess(s, just_before)
        assert health.disconnected == (gap - 1e-6 >= timeout)
        if not health.disconnected:
            assert health.next_change_at == last + timedelta(seconds=timeout)
        last = last + timedelta(seconds=gap)
        assert not assess(signals(last_heartbeat=last, heartbeat_timeout=timedelta(seconds=timeout)), last).disconnected


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=30))
def test_stall_clock_restarts_whenever_a_task_becomes_active(steps: list[tuple[int, int]]) -> None:
    """tasks_terminal_since is the start of the current all-terminal stretch."""
    since = None
    stretch_start = None
    now = T0
    for running_count, succeeded in steps:
        now += timedelta(seconds=60)
        processes = (ProcessCounts("P", running=running_count, succeeded=succeeded),)
        since = tasks_terminal_since(processes, since, now)
        terminal = running_count == 0 and succeeded > 0
        stretch_start = (stretch_start or now) if terminal else None
        assert since == stretch_start
