"""Two requests on one run (tracker.domain.contention): only the same request resolves
to the active job; any other is Busy, and the message names the active job."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.contention import ActiveJob, Ask, Meeting, busy_message, meet, same_request
from tracker.domain.records import Operation

operations = st.sampled_from([op.value for op in Operation if op.mutating])
destinations = st.one_of(st.none(), st.just(""), st.sampled_from(["s3://archive/x/", "s3://archive/y/"]))
asks = st.builds(Ask.of, operations, st.one_of(st.none(), st.booleans()), destinations)
JOB_ID = "7f3e0000-0000-4000-8000-000000000001"


@given(asks, asks)
def test_same_request_means_same_operation_dry_run_and_destination(a: Ask, b: Ask) -> None:
    assert same_request(a, b) == ((a.operation, a.dry_run, a.destination) == (b.operation, b.dry_run, b.destination))
    assert same_request(a, b) == same_request(b, a)
    assert same_request(a, a)
    active = ActiveJob(JOB_ID, "first", "Running", b)
    assert meet(a, active) is (Meeting.DUPLICATE if same_request(a, b) else Meeting.BUSY)


def test_an_unset_dry_run_or_destination_is_the_same_as_false_or_none() -> None:
    assert Ask.of("delete_outputs", None, None) == Ask.of("delete_outputs", False, "")


def test_a_real_delete_is_not_the_dry_run_in_flight() -> None:
    dry_run = ActiveJob(JOB_ID, "dry-delete", "Running", Ask.of("delete_outputs", True, None))
    real = Ask.of("delete_outputs", False, None)
    assert meet(real, dry_run) is Meeting.BUSY
    assert busy_message("foo-run", real, dry_run) == (
        f"run 'foo-run' is busy: delete_outputs (dry run) job {JOB_ID} (dry-delete) is running; this "
        "delete_outputs request was not started: request it again when that job has finished"
    )


def test_moves_to_two_destinations_are_two_requests() -> None:
    first = ActiveJob(JOB_ID, "move-x", "Enqueued", Ask.of("move_outputs", False, "s3://archive/x/"))
    assert meet(Ask.of("move_outputs", False, "s3://archive/y/"), first) is Meeting.BUSY
    assert meet(Ask.of("move_outputs", None, "s3://archive/x/"), first) is Meeting.DUPLICATE
