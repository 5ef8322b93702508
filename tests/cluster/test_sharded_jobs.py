"""Sharded lifecycle jobs end to end: a delete or move of a run with many indexed outputs
runs as a Kubernetes Indexed Job (the real Job controller), one worker pod per key range
of the run's prefix; a pod of one shard deleted mid-way is replaced and resumes its own
journal, and the job's counters, summed over the shards, come out exact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.faultproxy import FaultProxy
from fixtures.lifecyclejobs import apply_job, job_status, wait_finished
from fixtures.workflowruns import create_run, now, report, status_of

from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects, seed_objects
from localcluster.tracker import SYSTEM_NAMESPACE, Operator
from tracker.domain import shards
from tracker.store.engine import make_engine, session_factory
from tracker.store.models import DeleteBatch

pytestmark = pytest.mark.cluster
SHARDS = 3
SHARD_MIN_OBJECTS = 1000
INDEX_LABEL = "batch.kubernetes.io/job-completion-index"


@pytest.fixture(scope="module")
def shard_proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    """The fault proxy the sharded operator's workers reach S3 through (no faults unless a test adds one)."""
    proxy = FaultProxy(s3_server.endpoint_url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def sharded_operator(
    tracker_operator: Operator,
    shard_proxy: FaultProxy,
    operator_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Operator]:
    """The session's operator steps aside for one (same index) that shards a delete or
    move of a run with at least SHARD_MIN_OBJECTS indexed outputs into SHARDS pods."""
    tracker_operator.stop()
    operator = Operator(
        plane=tracker_operator.plane,
        s3=tracker_operator.s3,
        database_url=operator_database,
        state_dir=Path(tmp_path_factory.mktemp("sharded-operator")),
        extra_env={
            "TRACKER_LIFECYCLE__SHARD_MIN_OBJECTS": str(SHARD_MIN_OBJECTS),
            "TRACKER_LIFECYCLE__SHARDS": str(SHARDS),
            "TRACKER_S3__ENDPOINT_URL": shard_proxy.endpoint_url,
        },
    )
    try:
        yield operator.start()
    finally:
        operator.stop()
        tracker_operator.start()


def indexed_run(operator: Operator, namespace: str, name: str, output_dir: str) -> None:
    """A succeeded run whose outputs (already in S3) the operator has indexed."""
    create_run(operator.plane, namespace, name, owner="admin", outputDir=output_dir)
    report(operator.plane, namespace, name, {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})
    wait_until(
        lambda: (status_of(operator.plane, namespace, name).get("outputs") or {}).get("indexedAt"),
        timeout=240,
        what=f"{name} indexed",
    )


def keys_under(s3: S3Server, bucket: str, prefix: str) -> list[str]:
    paginator = s3.client().get_paginator("list_objects_v2")
    return [o["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix) for o in page.get("Contents", ())]


def worker_pods(operator: Operator, job_name: str) -> list[dict[str, Any]]:
    out = operator.plane.kubectl("get", "pods", "-n", SYSTEM_NAMESPACE, "-l", f"job-name={job_name}", "-o", "json")
    return list(json.loads(out.stdout)["items"])


def kubernetes_job(operator: Operator, name: str) -> dict[str, Any]:
    out = operator.plane.kubectl("get", "job", name, "-n", SYSTEM_NAMESPACE, "-o", "json")
    return dict(json.loads(out.stdout))


def journal_rows(database_url: str, job_ids: list[str]) -> int:
    with session_factory(make_engine(database_url))() as session:
        return session.query(DeleteBatch).filter(DeleteBatch.job_id.in_(job_ids)).count()


def test_a_pod_of_one_shard_killed_mid_delete_leaves_exact_counters(
    sharded_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    operator_database: str,
) -> None:
    ns, total = tracked_namespace, 45_000
    seed_objects(s3_server, s3_bucket, prefix="runs/shard-1/", count=total, size=10)
    neighbours = {"runs/shard-10/keep.bam": 5, "runs/shard-1.txt": 6, "runs/shard-10/shard-1/x": 7}
    put_objects(s3_server.client(), s3_bucket, neighbours)
    indexed_run(sharded_operator, ns, "shard-1", f"s3://{s3_bucket}/runs/shard-1/")
    apply_job(sharded_operator, ns, "delete-shard-1", run="shard-1", operation="delete_outputs")

    def mid_way() -> dict[str, Any] | None:
        status = job_status(sharded_operator, ns, "delete-shard-1")
        entry = (status.get("shards") or {}).get("1") or {}
        return status if 0 < entry.get("objectsDeleted", 0) < total // SHARDS else None

    status = wait_until(mid_way, timeout=180, interval=0.05, what="shard 1 to be mid-delete")
    assert status["shardCount"] == SHARDS
    assert status["shards"]["0"].get("after") is None  # the first range starts at the prefix...
    assert status["shards"]["2"].get("upto") is None  # ...and the last is open-ended
    job_name = status["kubernetesJob"]
    spec = kubernetes_job(sharded_operator, job_name)["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == ("Indexed", SHARDS, SHARDS)
    [victim] = [
        p
        for p in worker_pods(sharded_operator, job_name)
        if p["metadata"]["annotations"].get(INDEX_LABEL) == "1" and p["status"].get("phase") == "Running"
    ]
    sharded_operator.plane.kubectl("delete", "pod", victim["metadata"]["name"], "-n", SYSTEM_NAMESPACE, "--wait=false")

    done = wait_finished(sharded_operator, ns, "delete-shard-1", timeout=420)
    assert (done["phase"], done["reason"]) == ("Succeeded", "Completed"), done
    assert (done["objectsDeleted"], done["bytesDeleted"]) == (total, total * 10)
    # Equal-count ranges of the index's keys: each shard deleted exactly a third.
    assert [done["shards"][str(i)]["objectsDeleted"] for i in range(SHARDS)] == [total // SHARDS] * SHARDS
    assert {e["phase"] for e in done["shards"].values()} == {"Succeeded"}
    assert done["message"] == f"deleted {total} objects (439.5 KiB) under s3://{s3_bucket}/runs/shard-1/ in 3 shards"
    assert keys_under(s3_server, s3_bucket, "runs/shard-1/") == []
    assert sorted(keys_under(s3_server, s3_bucket, "runs/")) == sorted(neighbours)
    assert status_of(sharded_operator.plane, ns, "shard-1")["outputs"]["size"] == "Deleted"

    # Shard 1 ran twice: the deleted pod, then its replacement, which finished the range.
    again = [
        p
        for p in worker_pods(sharded_operator, job_name)
        if p["metadata"]["annotations"].get(INDEX_LABEL) == "1" and p["status"].get("phase") == "Succeeded"
    ]
    assert [p["metadata"]["name"] for p in again] != [victim["metadata"]["name"]]
    assert len(again) == 1
    journals = [shards.journal_id(done["jobId"], i) for i in range(SHARDS)]
    wait_until(
        lambda: journal_rows(operator_database, journals) == 0,
        timeout=30,
        what="the shards' delete journals to be dropped",
    )


def test_a_shard_that_fails_for_good_stops_the_others_and_fails_the_job_with_exact_counters(
    sharded_operator: Operator,
    shard_proxy: FaultProxy,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    ns, total, prefix = tracked_namespace, 45_000, "runs/shard-denied-1/"
    seed_objects(s3_server, s3_bucket, prefix=prefix, count=total, size=10)
    indexed_run(sharded_operator, ns, "shard-denied-1", f"s3://{s3_bucket}/{prefix}")
    denied = f"{prefix}obj-000005"  # in shard 0's range: S3 refuses it inside a 200 DeleteObjects answer
    shard_proxy.add_rule("key_errors", operation="DeleteObjects", keys={denied}, code="AccessDenied", times=None)
    apply_job(sharded_operator, ns, "delete-shard-denied-1", run="shard-denied-1", operation="delete_outputs")

    done = wait_finished(sharded_operator, ns, "delete-shard-denied-1", timeout=420)
    assert (done["phase"], done["reason"]) == ("Failed", "AccessDenied"), done
    assert done["message"].startswith(
        f"shard 0 of 3 failed: S3 denied deleting 1 objects under s3://{s3_bucket}/{prefix}: '{denied}' (AccessDenied)"
    ), done["message"]
    phases = {k: e["phase"] for k, e in done["shards"].items()}
    assert phases["0"] == "Failed"
    assert "Stopped" in phases.values(), phases  # the others stopped where they were
    left = keys_under(s3_server, s3_bucket, prefix)
    assert denied in left
    assert (done["objectsDeleted"], done["bytesDeleted"]) == (total - len(left), (total - len(left)) * 10)
    assert "deletedAt" not in status_of(sharded_operator.plane, ns, "shard-denied-1")["outputs"]


def test_a_sharded_move_lands_every_object_and_rewrites_every_row(
    sharded_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str
) -> None:
    ns, total = tracked_namespace, 3_000
    seed_objects(s3_server, s3_bucket, prefix="runs/shard-move-1/", count=total, size=7)
    indexed_run(sharded_operator, ns, "shard-move-1", f"s3://{s3_bucket}/runs/shard-move-1/")
    destination = f"s3://{s3_bucket}/archive/shard-move-1/"
    apply_job(
        sharded_operator, ns, "move-shard-1", run="shard-move-1", operation="move_outputs", destination=destination
    )
    done = wait_finished(sharded_operator, ns, "move-shard-1", timeout=300)
    assert (done["phase"], done["shardCount"]) == ("Succeeded", SHARDS), done
    assert done["objectsCopied"] == done["objectsDeleted"] == done["rowsRewritten"] == total
    assert done["bytesCopied"] == total * 7
    assert sum(e["objectsCopied"] for e in done["shards"].values()) == total
    assert keys_under(s3_server, s3_bucket, "runs/shard-move-1/") == []
    assert len(keys_under(s3_server, s3_bucket, "archive/shard-move-1/")) == total
    run = json.loads(sharded_operator.plane.kubectl("get", "wfr", "shard-move-1", "-n", ns, "-o", "json").stdout)
    assert run["spec"]["outputDir"] == destination


def test_a_run_below_the_threshold_is_deleted_by_one_pod(
    sharded_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str
) -> None:
    ns = tracked_namespace
    put_objects(s3_server.client(), s3_bucket, [(f"runs/small-1/f{i}", 3) for i in range(SHARD_MIN_OBJECTS - 1)])
    indexed_run(sharded_operator, ns, "small-1", f"s3://{s3_bucket}/runs/small-1/")
    apply_job(sharded_operator, ns, "delete-small-1", run="small-1", operation="delete_outputs")
    done = wait_finished(sharded_operator, ns, "delete-small-1")
    assert (done["phase"], done["objectsDeleted"]) == ("Succeeded", SHARD_MIN_OBJECTS - 1), done
    assert "shardCount" not in done
    assert "shards" not in done
    spec = kubernetes_job(sharded_operator, done["kubernetesJob"])["spec"]
    assert (spec["completionMode"], spec["completions"], spec["backoffLimit"]) == ("NonIndexed", 1, 3)
