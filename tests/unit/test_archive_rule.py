"""The archiving rule (tracker.domain.archive): which runs are due, and which runs and
lifecycle jobs the cluster's unfinished jobs keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.archive import TERMINAL_PHASES, Candidate, blocked_runs, cutoff, finished_jobs, is_due

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PHASES = st.sampled_from([None, "Submitted", "Running", "Succeeded", "Failed", "Aborted"])
AGES = st.integers(min_value=-3600, max_value=30 * 24 * 3600)
AFTER = st.integers(min_value=0, max_value=14 * 24 * 3600)


@given(phase=PHASES, age=AGES, after=AFTER, unfinished=st.integers(0, 3), removed=st.booleans())
def test_due_exactly_when_terminal_old_enough_live_and_idle(
    phase: str | None, age: int, after: int, unfinished: int, removed: bool
) -> None:
    finished_at = NOW - timedelta(seconds=age)
    due = is_due(
        phase=phase, finished_at=finished_at, now=NOW, after_seconds=after, removed=removed, unfinished_jobs=unfinished
    )
    expected = after > 0 and phase in TERMINAL_PHASES and age >= after and not unfinished and not removed
    assert due is expected


@given(phase=PHASES, after=AFTER)
def test_a_run_without_a_finish_time_is_never_due(phase: str | None, after: int) -> None:
    assert not is_due(phase=phase, finished_at=None, now=NOW, after_seconds=after)


@given(age=AGES, later=st.integers(0, 10**6), after=st.integers(1, 10**6))
def test_once_due_a_run_stays_due(age: int, later: int, after: int) -> None:
    finished_at = NOW - timedelta(seconds=age)
    if is_due(phase="Succeeded", finished_at=finished_at, now=NOW, after_seconds=after):
        assert is_due(
            phase="Succeeded", finished_at=finished_at, now=NOW + timedelta(seconds=later), after_seconds=after
        )
    assert cutoff(NOW, after) == NOW - timedelta(seconds=after)


def _job(namespace: str, name: str, run: str, phase: str | None = None, run_id: str | None = None) -> dict[str, Any]:
    status = {k: v for k, v in (("phase", phase), ("runId", run_id)) if v}
    return {"metadata": {"namespace": namespace, "name": name}, "spec": {"run": run}, "status": status}


A = Candidate(id="id-a", namespace="lab", name="wfr-a", run_name="run-a")
B = Candidate(id="id-b", namespace="lab", name="wfr-b", run_name="run-b")
C = Candidate(id="id-c", namespace="other", name="wfr-c", run_name="run-a")


def test_unfinished_jobs_keep_their_runs() -> None:
    jobs = [
        _job("lab", "not-admitted", "run-a"),  # no status yet: named by run name
        _job("lab", "running", "id-b", phase="Running", run_id="id-b"),
        _job("other", "done", "run-a", phase="Succeeded", run_id="id-c"),
    ]
    assert blocked_runs([A, B, C], jobs) == {"id-a", "id-b"}


def test_a_job_admitted_for_another_run_of_that_name_does_not_keep_this_one() -> None:
    jobs = [_job("lab", "old", "run-a", phase="Enqueued", run_id="an-older-run")]
    assert blocked_runs([A], jobs) == set()


def test_finished_jobs_go_with_their_runs_in_their_namespace_only() -> None:
    jobs = [
        _job("lab", "deleted", "run-a", phase="Succeeded", run_id="id-a"),
        _job("lab", "refused", "run-b", phase="Failed"),  # refused before it had a run id
        _job("lab", "active", "run-a", phase="Running", run_id="id-a"),
        _job("other", "same-name-elsewhere", "run-b", phase="Succeeded"),
        _job("lab", "someone-else", "run-z", phase="Succeeded", run_id="id-z"),
    ]
    assert finished_jobs([A, B], jobs) == [("lab", "deleted"), ("lab", "refused")]
