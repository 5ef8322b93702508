"""An OutputLifecycleJob's conditions, derived from its phase alone (tracker.domain.jobconditions)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.conditions import find
from tracker.domain.jobconditions import ADMITTED, FAILED, RUNNING, SUCCEEDED, TYPES, condition_reason, job_conditions
from tracker.domain.records import JobPhase

T0 = datetime(2026, 5, 13, 19, 2, 11, tzinfo=UTC)
REASON = re.compile(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")  # the CRD's metav1.Condition pattern
phases = st.sampled_from([p.value for p in JobPhase])
reasons = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["Completed", "Busy", "Forbidden", "Duplicate"]))
messages = st.one_of(st.none(), st.text(max_size=50))
foreign = st.lists(
    st.builds(
        lambda t, s: {
            "type": t,
            "status": s,
            "reason": "Pod",
            "message": "m",
            "lastTransitionTime": "2026-05-13T19:00:00Z",
        },
        st.sampled_from(["WorkerStarted", "example.com/Other"]),
        st.sampled_from(["True", "False", "Unknown"]),
    ),
    max_size=2,
    unique_by=lambda c: c["type"],
)


def status_of(conditions: list[dict[str, object]], type_: str) -> object:
    condition = find(conditions, type_)
    assert condition is not None, type_
    return condition["status"]


@given(phase=phases, reason=reasons, message=messages, others=foreign)
def test_exactly_the_phase_s_condition_is_true_and_others_are_kept(
    phase: str, reason: str | None, message: str | None, others: list[dict[str, object]]
) -> None:
    conditions = job_conditions(others, phase, reason, message, T0)
    assert [c for c in conditions if c["type"] not in TYPES] == others  # e.g. WorkerStarted, untouched
    own = {t: status_of(conditions, t) for t in (RUNNING, SUCCEEDED, FAILED)}
    expected = {RUNNING: phase == "Running", SUCCEEDED: phase == "Succeeded", FAILED: phase == "Failed"}
    assert own == {t: "True" if v else "False" for t, v in expected.items()}
    for condition in conditions:
        if condition["type"] in TYPES:
            assert REASON.match(str(condition["reason"])), condition
            assert condition["lastTransitionTime"] == "2026-05-13T19:02:11Z"
            assert isinstance(condition["message"], str)


@given(phase=phases, reason=reasons, message=messages)
def test_re_deriving_an_unchanged_phase_changes_nothing(phase: str, reason: str | None, message: str | None) -> None:
    first = job_conditions([], phase, reason, message, T0)
    assert job_conditions(first, phase, reason, message, T0 + timedelta(minutes=5)) == first


def test_a_refusal_is_not_admitted_but_a_later_failure_was() -> None:
    refused = job_conditions([], "Failed", "Forbidden", "'mallory' may not", T0)
    admitted = find(refused, ADMITTED)
    assert admitted is not None
    assert (admitted["status"], admitted["reason"], admitted["message"]) == ("False", "Forbidden", "'mallory' may not")

    enqueued = job_conditions([], "Enqueued", "Enqueued", "Kubernetes Job x will run the worker", T0)
    running = job_conditions(enqueued, "Running", "Running", "the worker is running", T0 + timedelta(seconds=2))
    failed = job_conditions(running, "Failed", "NoSuchBucket", "S3 refused", T0 + timedelta(seconds=3))
    assert find(failed, ADMITTED) == find(enqueued, ADMITTED)  # admitted once, stays so (same transition time)
    assert find(failed, ADMITTED)["status"] == "True"  # type: ignore[index]
    assert find(failed, FAILED) == {
        "type": FAILED,
        "status": "True",
        "reason": "NoSuchBucket",
        "message": "S3 refused",
        "lastTransitionTime": "2026-05-13T19:02:14Z",
    }
    assert find(failed, RUNNING)["status"] == "False"  # type: ignore[index]


@given(st.text(max_size=40))
def test_any_reason_becomes_a_valid_condition_reason(text: str) -> None:
    assert REASON.match(condition_reason(text, "Failed"))


def test_a_valid_reason_is_kept_as_it_is() -> None:
    assert condition_reason("BackoffLimitExceeded", "Failed") == "BackoffLimitExceeded"
    assert condition_reason(None, "Enqueued") == "Enqueued"
