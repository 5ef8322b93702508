"""Lifecycle jobs on the real control plane: who may, what is refused and why, the
index-only operations, idempotency and dedupe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures.lifecyclejobs import job_status
from fixtures.workflowruns import create_run, now, report, status_of

from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import Operator
from tracker.store import lookup
from tracker.store import runs as run_rows
from tracker.store.engine import make_engine, session_factory

pytestmark = pytest.mark.cluster


def submit(
    operator: Operator, namespace: str, kubeconfig: Path, user: str, operation: str, name: str, **spec: Any
) -> dict[str, Any]:
    """Create a lifecycle job as `user` and wait for the operator's verdict."""
    manifest = {
        "apiVersion": "tracker.dev/v1alpha1",
        "kind": "OutputLifecycleJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"operation": operation, "requestedBy": user, **spec},
    }
    operator.plane.kubectl("create", "-f", "-", input=json.dumps(manifest), kubeconfig=kubeconfig)
    return wait_until(
        lambda: (s := job_status(operator, namespace, name)).get("phase") and s,
        timeout=60,
        what=f"lifecycle job {name} to be admitted",
    )


@pytest.fixture
def users(tracker_operator: Operator, tracked_namespace: str) -> dict[str, Path]:
    plane = tracker_operator.plane
    plane.kubectl(
        "create",
        "role",
        "requester",
        "--verb=create,get,list,watch",
        "--resource=outputlifecyclejobs.tracker.dev",
        "--resource=workflowruns.tracker.dev",
        "-n",
        tracked_namespace,
    )
    plane.kubectl(
        "create", "rolebinding", "requesters", "--role=requester", "--group=scientists", "-n", tracked_namespace
    )
    return {name: plane.mint_user(name, groups=["scientists"]) for name in ("alice", "mallory")}


@pytest.fixture
def indexed_run(tracker_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str) -> str:
    """A succeeded run of alice's with 12 indexed outputs, next to a neighbour prefix."""
    plane, ns = tracker_operator.plane, tracked_namespace
    put_objects(s3_server.client(), s3_bucket, [(f"runs/foo-run-1/f{i}.txt", 10) for i in range(12)])
    put_objects(s3_server.client(), s3_bucket, [("runs/foo-run-10/keep.txt", 10)])
    create_run(plane, ns, "foo-run-1", outputDir=f"s3://{s3_bucket}/runs/foo-run-1/")
    report(plane, ns, "foo-run-1", {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})
    wait_until(
        lambda: (status_of(plane, ns, "foo-run-1").get("outputs") or {}).get("indexedAt"),
        timeout=120,
        what="foo-run-1 indexed",
    )
    return "foo-run-1"


def test_a_stranger_is_forbidden_and_told_who_may(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Path], indexed_run: str
) -> None:
    status = submit(
        tracker_operator,
        tracked_namespace,
        users["mallory"],
        "mallory",
        "mark_outputs_deleted",
        "by-mallory",
        run=indexed_run,
    )
    assert (status["phase"], status["reason"]) == ("Failed", "Forbidden")
    assert status["message"].startswith(
        f"'mallory' may not mark outputs deleted for run '{indexed_run}': only its owner 'alice'"
    )
    assert "deletedAt" not in status_of(tracker_operator.plane, tracked_namespace, indexed_run)["outputs"]


def test_unknown_run_fails_with_a_reason(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Path]
) -> None:
    status = submit(
        tracker_operator, tracked_namespace, users["alice"], "alice", "delete_outputs", "no-run", run="nope"
    )
    assert (status["phase"], status["reason"]) == ("Failed", "RunNotFound")
    assert status["message"] == f"no WorkflowRun named 'nope' in namespace '{tracked_namespace}'"


def test_mark_outputs_deleted_then_delete_is_already_done(
    tracker_operator: Operator,
    tracked_namespace: str,
    users: dict[str, Path],
    indexed_run: str,
    operator_database: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    status = submit(tracker_operator, ns, users["alice"], "alice", "mark_outputs_deleted", "mark", run=indexed_run)
    assert (status["phase"], status["reason"]) == ("Succeeded", "Completed")
    assert status["message"] == "12 output rows marked deleted (no S3 call)"
    run = status_of(plane, ns, indexed_run)
    assert run["outputs"]["deletedBy"] == "alice"
    assert run["outputs"]["size"] == "Deleted"
    assert run["outputs"]["annualCostHigh"] == 0
    assert any(c["type"] == "OutputsDeleted" and c["status"] == "True" for c in run["conditions"])
    assert plane.kubectl("get", "wfr", indexed_run, "-n", ns, "--no-headers").stdout.split()[6] == "Deleted"
    # The objects are still in S3 (index only) and the rows are kept, marked deleted.
    listed = s3_server.client().list_objects_v2(Bucket=s3_bucket, Prefix="runs/foo-run-1/")
    assert listed["KeyCount"] == 12
    with session_factory(make_engine(operator_database))() as session:
        record = run_rows.get_run(session, ref=indexed_run, namespace=ns)
        assert record is not None
        matches, total = lookup.search_outputs(session, words=["foo-run-1/f"], run_id=record.id)
        assert total == 12
        assert all(m.deleted_at is not None for m in matches)

    again = submit(tracker_operator, ns, users["alice"], "alice", "delete_outputs", "delete-again", run=indexed_run)
    assert (again["phase"], again["reason"]) == ("Succeeded", "AlreadyDeleted")
    assert "kubernetesJob" not in again  # no worker, no S3 call
    moved = submit(
        tracker_operator,
        ns,
        users["alice"],
        "alice",
        "rewrite_output_paths",
        "rewrite-deleted",
        run=indexed_run,
        destination=f"s3://{s3_bucket}/archive/foo-run-1/",
    )
    assert (moved["phase"], moved["reason"]) == ("Failed", "OutputsDeleted")


def test_rewrite_output_paths_rewrites_rows_and_output_dir(
    tracker_operator: Operator,
    tracked_namespace: str,
    users: dict[str, Path],
    indexed_run: str,
    operator_database: str,
    s3_bucket: str,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    overlapping = submit(
        tracker_operator,
        ns,
        users["alice"],
        "alice",
        "rewrite_output_paths",
        "overlap",
        run=indexed_run,
        destination=f"s3://{s3_bucket}/runs/foo-run-1/sub/",
    )
    assert (overlapping["phase"], overlapping["reason"]) == ("Failed", "OverlappingDestination")

    destination = "s3://archive-bucket/2026/foo-run-1/"
    status = submit(
        tracker_operator,
        ns,
        users["alice"],
        "alice",
        "rewrite_output_paths",
        "rewrite",
        run=indexed_run,
        destination=destination,
    )
    assert (status["phase"], status["rowsRewritten"]) == ("Succeeded", 12)
    run = json.loads(plane.kubectl("get", "wfr", indexed_run, "-n", ns, "-o", "json").stdout)
    assert run["spec"]["outputDir"] == destination
    with session_factory(make_engine(operator_database))() as session:
        found = lookup.lookup_runs_by_url(session, text="archive-bucket/2026/foo-run-1/f3.txt")
        assert [r.run_name for r in found] == [indexed_run]
        assert lookup.lookup_runs_by_url(session, text=f"{s3_bucket}/runs/foo-run-1/f3.txt") == []


def test_shared_prefix_and_bucket_root_are_refused(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Path], indexed_run: str, s3_bucket: str
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    create_run(plane, ns, "umbrella", outputDir=f"s3://{s3_bucket}/runs/")
    report(plane, ns, "umbrella", {"phase": "Running", "lastHeartbeatTime": now()})
    wait_until(lambda: status_of(plane, ns, "umbrella").get("id"), timeout=30, what="umbrella's id")
    status = submit(tracker_operator, ns, users["alice"], "alice", "delete_outputs", "umbrella-delete", run="umbrella")
    assert (status["phase"], status["reason"]) == ("Failed", "SharedPrefix")
    assert f"'{indexed_run}'" in status["message"]

    create_run(plane, ns, "rooted", outputDir=f"s3://{s3_bucket}/")
    wait_until(lambda: status_of(plane, ns, "rooted").get("id"), timeout=30, what="rooted's id")
    status = submit(tracker_operator, ns, users["alice"], "alice", "delete_outputs", "root-delete", run="rooted")
    assert (status["phase"], status["reason"]) == ("Failed", "BucketRoot")


def test_applying_the_same_manifest_twice_changes_nothing(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Path], indexed_run: str
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    manifest = json.dumps(
        {
            "apiVersion": "tracker.dev/v1alpha1",
            "kind": "OutputLifecycleJob",
            "metadata": {"name": "twice", "namespace": ns},
            "spec": {"run": indexed_run, "operation": "mark_outputs_deleted", "requestedBy": "alice"},
        }
    )
    plane.kubectl("apply", "-f", "-", input=manifest, kubeconfig=users["alice"])
    first = wait_until(
        lambda: (s := job_status(tracker_operator, ns, "twice")).get("phase") and s,
        timeout=60,
        what="the job to be admitted",
    )
    result = plane.kubectl("apply", "-f", "-", input=manifest, kubeconfig=users["alice"])
    assert "unchanged" in result.stdout
    assert job_status(tracker_operator, ns, "twice") == first
