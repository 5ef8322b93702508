"""Reviewing lifecycle requests: authorization, idempotency and the prefix fence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.authz import Admins
from tracker.domain.lifecycle import Outcome, Request, RunFacts, review
from tracker.domain.records import Operation

RUN = RunFacts(
    run_name="foo-run-001",
    owner="alice",
    cluster="hpc-a",
    output_dir="s3://bkt/runs/foo-run-001/",
    outputs_deleted=False,
)
DELETED = RunFacts(**{**RUN.__dict__, "outputs_deleted": True})
OPERATOR = "system:serviceaccount:tracker-system:tracker-operator"


def check(
    operation: Operation,
    run: RunFacts = RUN,
    *,
    by: str = "alice",
    destination: str | None = None,
    sharing: tuple[str, ...] = (),
):
    return review(
        Request(operation, by, destination=destination),
        run,
        admins=Admins(),
        operator_identity=OPERATOR,
        runs_sharing_prefix=sharing,
    )


def test_owner_may_delete() -> None:
    verdict = check(Operation.DELETE_OUTPUTS)
    assert verdict.outcome is Outcome.START
    assert str(verdict.source) == RUN.output_dir


def test_others_are_forbidden_with_who_may() -> None:
    verdict = check(Operation.DELETE_OUTPUTS, by="mallory")
    assert (verdict.outcome, verdict.reason) == (Outcome.REFUSE, "Forbidden")
    assert "only its owner 'alice'" in verdict.message


def test_operator_may_only_index_without_being_an_admin() -> None:
    assert check(Operation.INDEX_OUTPUTS, by=OPERATOR).outcome is Outcome.START
    assert check(Operation.DELETE_OUTPUTS, by=OPERATOR).reason == "Forbidden"


@pytest.mark.parametrize("operation", [Operation.DELETE_OUTPUTS, Operation.MARK_OUTPUTS_DELETED])
def test_deleting_deleted_outputs_is_already_done(operation: Operation) -> None:
    verdict = check(operation, DELETED)
    assert (verdict.outcome, verdict.reason) == (Outcome.DONE, "AlreadyDeleted")


@pytest.mark.parametrize("operation", [Operation.MOVE_OUTPUTS, Operation.REWRITE_OUTPUT_PATHS, Operation.INDEX_OUTPUTS])
def test_moving_or_rewriting_deleted_outputs_is_refused(operation: Operation) -> None:
    verdict = check(operation, DELETED, destination="s3://new/archive/")
    assert (verdict.outcome, verdict.reason) == (Outcome.REFUSE, "OutputsDeleted")


@pytest.mark.parametrize("operation", [Operation.DELETE_OUTPUTS, Operation.MOVE_OUTPUTS])
def test_bucket_roots_and_shared_prefixes_are_refused(operation: Operation) -> None:
    root = RunFacts(**{**RUN.__dict__, "output_dir": "s3://bkt/"})
    assert check(operation, root, destination="s3://new/a/").reason == "BucketRoot"
    shared = check(operation, destination="s3://new/a/", sharing=("foo-run-001-retry",))
    assert shared.reason == "SharedPrefix"
    assert "'foo-run-001-retry'" in shared.message


@pytest.mark.parametrize(
    "destination", ["s3://bkt/runs/", "s3://bkt/runs/foo-run-001/", "s3://bkt/runs/foo-run-001/x/"]
)
@pytest.mark.parametrize("operation", [Operation.MOVE_OUTPUTS, Operation.REWRITE_OUTPUT_PATHS])
def test_overlapping_destinations_are_refused(operation: Operation, destination: str) -> None:
    verdict = check(operation, destination=destination)
    assert verdict.reason == "OverlappingDestination"
    action = "move" if operation is Operation.MOVE_OUTPUTS else "rewrite"
    assert verdict.message.startswith(f"refusing to {action} s3://bkt/runs/foo-run-001/ to {destination}: ")


def test_sibling_destination_is_fine() -> None:
    verdict = check(Operation.MOVE_OUTPUTS, destination="s3://bkt/runs/foo-run-0010/")
    assert verdict.outcome is Outcome.START
    assert str(verdict.destination) == "s3://bkt/runs/foo-run-0010/"


@pytest.mark.parametrize("destination", ["s3://bkt/new", "s3://bkt/a//b/", "s3://bkt/../x/", "http://x/y/"])
def test_malformed_destinations_are_refused(destination: str) -> None:
    assert check(Operation.MOVE_OUTPUTS, destination=destination).reason == "InvalidDestination"


@given(
    st.sampled_from(list(Operation)),
    st.booleans(),
    st.sampled_from(["alice", "mallory", OPERATOR]),
    st.sampled_from([None, "s3://bkt/runs/", "s3://other/a/", "s3://bkt/"]),
    st.sampled_from(["s3://bkt/runs/foo/", "s3://bkt/", None]),
    st.booleans(),
)
def test_nothing_starts_that_the_rules_forbid(
    operation: Operation, deleted: bool, by: str, destination: str | None, output_dir: str | None, shared: bool
) -> None:
    run = RunFacts("foo", "alice", None, output_dir, deleted)
    verdict = review(
        Request(operation, by, destination=destination),
        run,
        admins=Admins(),
        operator_identity=OPERATOR,
        runs_sharing_prefix=("bar",) if shared else (),
    )
    if verdict.outcome is Outcome.START:
        assert by == "alice" or (by == OPERATOR and operation is Operation.INDEX_OUTPUTS)
        assert not deleted
        assert output_dir is not None
        if operation in (Operation.DELETE_OUTPUTS, Operation.MOVE_OUTPUTS):
            assert not shared
            assert output_dir != "s3://bkt/"
        if operation in (Operation.MOVE_OUTPUTS, Operation.REWRITE_OUTPUT_PATHS):
            assert destination is not None
            assert verdict.destination is not None
            assert not (destination.startswith(output_dir))
            assert not (output_dir.startswith(destination))
    if verdict.outcome is Outcome.DONE:
        assert deleted
        assert operation in (Operation.DELETE_OUTPUTS, Operation.MARK_OUTPUTS_DELETED)
