"""The index through a run's life, end to end (control plane, operator, worker Jobs run
by the node agent, the S3 server): a re-index marks rows whose objects are gone, the
worker re-checks the shared-prefix rule when it starts, and a WorkflowRun re-created
under a deleted run's name is a new run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fixtures.lifecyclejobs import apply_job, job_status, wait_finished
from fixtures.workflowruns import create_run, events_for, now, report, status_of
from sqlalchemy import select

from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import Operator
from tracker.store import lookup
from tracker.store import runs as run_rows
from tracker.store.engine import make_engine, session_factory
from tracker.store.models import Output, Run

pytestmark = pytest.mark.cluster


def succeed(operator: Operator, namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    """Create a run (owned by the admin), report it Succeeded, wait for its outputs to be indexed."""
    create_run(operator.plane, namespace, name, owner="admin", **spec)
    wait_until(lambda: status_of(operator.plane, namespace, name).get("id"), timeout=60, what=f"{name} has an id")
    report(operator.plane, namespace, name, {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})
    try:
        return wait_until(
            lambda: (s := status_of(operator.plane, namespace, name)).get("outputs", {}).get("indexedAt") and s,
            timeout=120,
            what=f"{name} indexed",
        )
    except TimeoutError:
        print(operator.log_tail())
        raise


def rows(database: str, run_id: str) -> dict[str, bool]:
    """The run's output rows: URL -> marked deleted."""
    with session_factory(make_engine(database))() as session:
        found = session.execute(select(Output.url, Output.deleted_at).where(Output.run_id == run_id))
        return {url: deleted_at is not None for url, deleted_at in found}


def test_a_reindex_marks_rows_whose_objects_are_gone_and_unmarks_those_back(
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    operator_database: str,
) -> None:
    ns, client, base = tracked_namespace, s3_server.client(), f"s3://{s3_bucket}/runs/reindex-1/"
    put_objects(
        client,
        s3_bucket,
        [
            ("runs/reindex-1/a.bam", 100),
            ("runs/reindex-1/gone/b.bam", 20),
            ("runs/reindex-1/c.txt", 3),
            ("runs/reindex-10/neighbour", 7),
        ],
    )
    status = succeed(tracker_operator, ns, "reindex-1", outputDir=base)
    run_id = status["id"]
    assert (status["outputs"]["count"], status["outputs"]["bytes"]) == (3, 123)

    client.delete_object(Bucket=s3_bucket, Key="runs/reindex-1/gone/b.bam")
    put_objects(client, s3_bucket, [("runs/reindex-1/d.txt", 1000)])
    apply_job(tracker_operator, ns, "reindex-1-again", run="reindex-1", operation="index_outputs")
    finished = wait_finished(tracker_operator, ns, "reindex-1-again")
    assert (finished["phase"], finished["objectsIndexed"]) == ("Succeeded", 3), finished
    assert "1 objects no longer in S3 marked deleted" in finished["message"]
    outputs = status_of(tracker_operator.plane, ns, "reindex-1")["outputs"]
    assert (outputs["count"], outputs["bytes"]) == (3, 1103)  # the gone object no longer counts
    assert "deletedAt" not in outputs  # the run's outputs are not deleted, one object is
    assert rows(operator_database, run_id) == {
        f"{base}a.bam": False,
        f"{base}gone/b.bam": True,
        f"{base}c.txt": False,
        f"{base}d.txt": False,
    }

    put_objects(client, s3_bucket, [("runs/reindex-1/gone/b.bam", 20)])
    apply_job(tracker_operator, ns, "reindex-1-third", run="reindex-1", operation="index_outputs")
    assert wait_finished(tracker_operator, ns, "reindex-1-third")["phase"] == "Succeeded"
    outputs = status_of(tracker_operator.plane, ns, "reindex-1")["outputs"]
    assert (outputs["count"], outputs["bytes"]) == (4, 1123)
    assert not any(rows(operator_database, run_id).values())  # the object is back: its row too


@contextmanager
def node_cordoned(operator: Operator) -> Iterator[None]:
    """No new pod is scheduled while inside: a Job's pod waits, Pending."""
    operator.plane.kubectl("cordon", "tracker-node")
    try:
        yield
    finally:
        operator.plane.kubectl("uncordon", "tracker-node")


@pytest.mark.parametrize("operation", ["delete_outputs", "move_outputs"])
def test_the_worker_refuses_a_prefix_shared_since_admission(
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    operator_database: str,
    operation: str,
) -> None:
    ns, client = tracked_namespace, s3_server.client()
    name, prefix = f"shared-{operation[:4]}", f"runs/shared-{operation[:4]}/"
    put_objects(client, s3_bucket, [(f"{prefix}a.bam", 10), (f"{prefix}b/c.txt", 5)])
    succeed(tracker_operator, ns, name, outputDir=f"s3://{s3_bucket}/{prefix}")
    job = f"{name}-job"
    spec = {"destination": f"s3://{s3_bucket}/archive/{name}/"} if operation == "move_outputs" else {}
    with node_cordoned(tracker_operator):
        apply_job(tracker_operator, ns, job, run=name, operation=operation, **spec)
        admitted = wait_until(
            lambda: (s := job_status(tracker_operator, ns, job)).get("phase") and s, timeout=60, what=f"{job} admitted"
        )
        assert admitted["phase"] == "Enqueued", admitted  # its reason may already say the pod is Unschedulable
        # Another run publishes under the prefix before the worker starts.
        create_run(tracker_operator.plane, ns, f"{name}-nested", owner="bob", outputDir=f"s3://{s3_bucket}/{prefix}b/")
        nested_id = wait_until(
            lambda: status_of(tracker_operator.plane, ns, f"{name}-nested").get("id"),
            timeout=60,
            what="the nested run has an id",
        )
        with session_factory(make_engine(operator_database))() as session:
            wait_until(
                lambda: run_rows.get_run(session, ref=nested_id) is not None,
                timeout=60,
                what="the nested run mirrored into the index",
            )
    status = wait_finished(tracker_operator, ns, job)
    assert (status["phase"], status["reason"]) == ("Failed", "SharedPrefix"), status
    assert f"'{name}-nested'" in status["message"]
    assert f"s3://{s3_bucket}/{prefix}" in status["message"]
    paginator = client.get_paginator("list_objects_v2")
    left = sorted(
        o["Key"] for page in paginator.paginate(Bucket=s3_bucket, Prefix=prefix) for o in page.get("Contents", ())
    )
    assert left == [f"{prefix}a.bam", f"{prefix}b/c.txt"]  # nothing deleted, nothing moved
    assert status_of(tracker_operator.plane, ns, name)["outputs"].get("deletedAt") is None


def test_a_run_recreated_under_a_deleted_runs_name_is_a_new_run(
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    operator_database: str,
) -> None:
    ns, client, base = tracked_namespace, s3_server.client(), f"s3://{s3_bucket}/runs/again/"
    put_objects(client, s3_bucket, [("runs/again/first.bam", 10)])
    first = succeed(tracker_operator, ns, "again", outputDir=base)["id"]
    tracker_operator.plane.kubectl("delete", "wfr", "again", "-n", ns, "--wait=true", "--timeout=60s")
    index = make_engine(operator_database)

    def removed() -> bool:
        # a read-only session per look: an open read-write one would hold SQLite's write
        # lock (BEGIN IMMEDIATE) and keep the operator from writing what it waits for
        with session_factory(index, readonly=True)() as session:
            run = session.get(Run, first)
            return run is not None and run.removed_at is not None

    try:
        wait_until(removed, timeout=60, what="the deleted run marked removed in the index")
    finally:
        index.dispose()

    put_objects(client, s3_bucket, [("runs/again/second.bam", 20)])
    second = succeed(tracker_operator, ns, "again", outputDir=base)
    assert second["id"] != first
    assert second["outputs"]["count"] == 2
    assert not [e for e in events_for(tracker_operator.plane, ns, "again") if e["reason"] == "DuplicateRunName"]
    with session_factory(make_engine(operator_database))() as session:
        old, new = run_rows.get_run(session, ref=first), run_rows.get_run(session, ref=second["id"])
        assert old is not None
        assert new is not None
        assert old.run_name == new.run_name == "again"
        by_name = run_rows.get_run(session, ref="again", namespace=ns)
        assert by_name is not None
        assert by_name.id == second["id"]
        found = {r.id for r in lookup.lookup_runs_by_url(session, text=f"{base}first.bam")}
        assert found == {first, second["id"]}  # the old run still tells what it published
    assert set(rows(operator_database, second["id"])) == {f"{base}first.bam", f"{base}second.bam"}
    assert set(rows(operator_database, first)) == {f"{base}first.bam"}
