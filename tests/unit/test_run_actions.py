"""The Actions menu's pure parts: who is offered "Delete output dir" in which
authentication mode, the typed confirmation, the job manifest (the CLI's builder),
the apiserver's refusals as the page words them, and a requested job's progress."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tracker.api.web.actions_view import progress, refusal
from tracker.domain.authz import Admins, Principals
from tracker.domain.records import Operation
from tracker.domain.runactions import confirmation_problem, delete_offer
from tracker.kube.manifests import lifecycle_job_resource, requested_job_resource
from tracker.kube.requests import requested_record

OWNER = "system:serviceaccount:lab:alice"
ADMINS = Admins(users=("root",), groups=("platform",), clusters={"hpc-a": Principals(("hpc-admin",), ("hpc-ops",))})


def offer(user: str, groups: tuple[str, ...] = (), *, auth_mode: str = "kubernetes", **run: Any) -> Any:
    facts: dict[str, Any] = {"output_dir": "s3://b/runs/r1/", "outputs_deleted": False, **run}
    return delete_offer(
        auth_mode=auth_mode,
        user=user,
        groups=groups,
        owner=OWNER,
        cluster="hpc-a",
        admins=ADMINS,
        run_name="r1",
        **facts,
    )


@pytest.mark.parametrize(
    ("user", "groups"),
    [
        (OWNER, ()),
        ("hpc-admin", ()),
        ("someone", ("hpc-ops",)),
        ("root", ()),
        ("someone", ("platform", "x")),
    ],
)
def test_the_owner_and_admins_are_offered_the_deletion(user: str, groups: tuple[str, ...]) -> None:
    got = offer(user, groups)
    assert (got.shown, got.enabled, got.reason) == (True, True, "")


@pytest.mark.parametrize(
    ("user", "groups"),
    [("system:serviceaccount:lab:bob", ("system:serviceaccounts",)), ("hpc-admin-2", ("hpc-ops-x",)), ("", ())],
)
def test_a_colleague_is_not_shown_the_action(user: str, groups: tuple[str, ...]) -> None:
    assert not offer(user, groups).shown


def test_an_admin_of_another_cluster_is_not_shown_the_action() -> None:
    got = delete_offer(
        auth_mode="kubernetes",
        user="hpc-admin",
        groups=(),
        owner=OWNER,
        cluster="hpc-b",
        admins=ADMINS,
        run_name="r1",
        output_dir="s3://b/r/",
        outputs_deleted=False,
    )
    assert not got.shown


def test_with_authentication_off_nobody_is_shown_the_action() -> None:
    assert not offer(OWNER, auth_mode="none").shown
    assert not offer("anonymous", auth_mode="none").shown


def test_with_static_tokens_the_owner_is_told_to_use_the_cli() -> None:
    got = offer(OWNER, auth_mode="token")
    assert got.shown
    assert not got.enabled
    assert "static API token" in got.reason
    assert "tracker outputs delete r1" in got.reason
    assert not offer("bob", auth_mode="token").shown


def test_deleted_outputs_or_no_output_dir_cannot_be_deleted_again() -> None:
    deleted = offer(OWNER, outputs_deleted=True)
    assert (deleted.shown, deleted.enabled, deleted.reason) == (True, False, "The outputs are already deleted.")
    nowhere = offer(OWNER, output_dir=None)
    assert (nowhere.shown, nowhere.enabled, nowhere.reason) == (True, False, "This run has no output directory.")


def test_only_delete_typed_exactly_confirms() -> None:
    assert confirmation_problem("delete") is None
    for typed in ("", "Delete", "DELETE", " delete", "delete ", "yes", "delete\n", "delet"):
        problem = confirmation_problem(typed)
        assert (problem or "").endswith("Nothing was deleted."), typed
    assert "type delete (exactly" in (confirmation_problem("nope") or "")
    assert "'" + "x" * 40 + "…'" in (confirmation_problem("x" * 5000) or "")


def test_the_requested_job_is_the_cli_manifest_for_the_signed_in_user() -> None:
    manifest = requested_job_resource(
        namespace="lab",
        run_ref="r1",
        run_resource_name="r1-object",
        operation=Operation.DELETE_OUTPUTS,
        requested_by=OWNER,
        requested_by_groups=("system:serviceaccounts", "system:authenticated"),
    )
    assert manifest == {
        "apiVersion": "tracker.dev/v1alpha1",
        "kind": "OutputLifecycleJob",
        "metadata": {"namespace": "lab", "labels": {}, "generateName": "r1-object-delete-"},
        "spec": {
            "run": "r1",
            "operation": "delete_outputs",
            "requestedBy": OWNER,
            "requestedByGroups": ["system:serviceaccounts", "system:authenticated"],
        },
    }
    long_name = requested_job_resource(
        namespace="lab",
        run_ref="r1",
        run_resource_name="n" * 60,
        operation=Operation.MOVE_OUTPUTS,
        requested_by="u",
        destination="s3://b/d/",
        dry_run=True,
    )
    assert long_name["metadata"]["generateName"] == "n" * 40 + "-move-"
    assert long_name["spec"] == {
        **lifecycle_job_resource(
            namespace="lab",
            run_name="r1",
            operation="move_outputs",
            requested_by="u",
            destination="s3://b/d/",
            dry_run=True,
        )["spec"]
    }
    unknown_object = requested_job_resource(
        namespace="lab", run_ref="r1", run_resource_name=None, operation=Operation.DELETE_OUTPUTS, requested_by="u"
    )
    assert unknown_object["metadata"]["generateName"] == "delete-"


def status_body(message: str, code: int, reason: str = "Forbidden") -> str:
    return json.dumps({"kind": "Status", "status": "Failure", "message": message, "reason": reason, "code": code})


def test_apiserver_refusals_are_told_with_their_message() -> None:
    rbac = refusal(
        403, status_body('outputlifecyclejobs.tracker.dev is forbidden: User "bob" cannot create', 403), "Forbidden"
    )
    assert (rbac.status, rbac.title) == (403, "Refused by Kubernetes")
    assert (
        rbac.message
        == 'Kubernetes refused the deletion job: outputlifecyclejobs.tracker.dev is forbidden: User "bob" cannot create'
    )
    policy = refusal(
        422, status_body("spec.requestedBy must be the user creating the job (a), not b", 422, "Invalid"), None
    )
    assert policy.status == 422
    assert policy.message.endswith("(422): spec.requestedBy must be the user creating the job (a), not b")
    assert refusal(401, status_body("Unauthorized", 401), "Unauthorized").title == "Sign in again"
    broken = refusal(500, b"<html>oops</html>", "Internal Server Error")
    assert (broken.status, broken.message) == (503, "The Kubernetes API server answered 500: Internal Server Error")
    assert refusal(409, None, "Conflict").message == "Kubernetes refused the deletion job (409): Conflict"


def job_body(status: dict[str, Any] | None = None, name: str = "r1-delete-abcde", uid: str = "u-1") -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": name, "namespace": "lab", "uid": uid, "creationTimestamp": "2026-12-02T03:00:00Z"},
        "spec": {"run": "r1", "operation": "delete_outputs", "requestedBy": OWNER},
    }
    if status is not None:
        body["status"] = status
    return body


def test_progress_of_a_requested_job_from_waiting_to_deleted() -> None:
    waiting = progress(requested_record(job_body()), taken_on=False)
    assert waiting.active
    assert waiting.headline == "Requested: waiting for the operator to take the job on."
    assert (waiting.job.id, waiting.job.requested_by) == ("u-1", OWNER)
    running = progress(
        requested_record(job_body({"jobId": "u-1", "phase": "Running", "objectsDeleted": 2, "bytesDeleted": 2048}))
    )
    assert running.active
    assert running.headline == "Deleting the outputs: running."
    assert running.progress == "2 objects deleted (2.0 KiB)"
    done = progress(requested_record(job_body({"jobId": "u-1", "phase": "Succeeded", "reason": "Completed"})))
    assert (done.active, done.failed, done.headline) == (False, False, "The outputs are deleted.")
    already = progress(requested_record(job_body({"jobId": "u-1", "phase": "Succeeded", "reason": "AlreadyDeleted"})))
    assert already.headline == "The outputs were already deleted: nothing to do."


def test_progress_of_a_refused_or_resolved_request() -> None:
    busy = {
        "jobId": "u-1",
        "phase": "Failed",
        "reason": "Busy",
        "message": "run 'r1' is busy: move_outputs job u-0 is running",
    }
    refused = progress(requested_record(job_body(busy)))
    assert refused.failed
    assert not refused.active
    assert refused.headline == "The deletion failed (Busy): run 'r1' is busy: move_outputs job u-0 is running"
    resolved = requested_record(job_body({"jobId": "u-0", "phase": "Running", "reason": "Duplicate"}))
    first = requested_record(
        job_body({"jobId": "u-0", "phase": "Running", "objectsDeleted": 1}, name="r1-delete-first", uid="u-0")
    )
    followed = progress(resolved, first)
    assert followed.active
    assert followed.resolved_to == "u-0"
    assert followed.job.name == "r1-delete-first"
    assert followed.progress.startswith("1 object deleted")
    assert followed.headline == "A deletion of these outputs was already running: this request follows it."
