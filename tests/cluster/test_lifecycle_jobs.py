"""Deleting and moving a run's outputs end to end: kubectl apply of a lifecycle job,
the operator, a Kubernetes Job run by the node agent, the worker, the S3 server."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.cli import Cli
from fixtures.faultproxy import FaultProxy
from fixtures.lifecyclejobs import apply_job, job_status, wait_finished
from fixtures.workflowruns import create_run, now, report, status_of
from sqlalchemy import func, select

from localcluster.processes import wait_until
from localcluster.s3server import S3Server, object_body, put_objects, seed_objects
from localcluster.tracker import SYSTEM_NAMESPACE, Operator
from tracker.store import lookup
from tracker.store import runs as run_rows
from tracker.store.engine import make_engine, session_factory
from tracker.store.models import DeleteBatch

pytestmark = pytest.mark.cluster
KEYS = ["a.txt", "dir with spaces/b.bam", "unicodé/č.vcf", "100%/x", "dots/../y", "double//z", "folder/"]


def published_run(
    operator: Operator, namespace: str, s3: S3Server, bucket: str, name: str, sizes: dict[str, int]
) -> str:
    """A succeeded run whose outputs are indexed; the admin owns it (so may change them)."""
    put_objects(s3.client(), bucket, [(f"runs/{name}/{key}", size) for key, size in sizes.items()])
    create_run(operator.plane, namespace, name, owner="admin", outputDir=f"s3://{bucket}/runs/{name}/")
    report(operator.plane, namespace, name, {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})
    wait_until(
        lambda: (status_of(operator.plane, namespace, name).get("outputs") or {}).get("indexedAt"),
        timeout=120,
        what=f"{name} indexed",
    )
    return name


def keys_under(s3: S3Server, bucket: str, prefix: str) -> list[str]:
    paginator = s3.client().get_paginator("list_objects_v2")
    return [o["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix) for o in page.get("Contents", ())]


def test_delete_empties_exactly_the_runs_prefix(
    tracker_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str, operator_database: str
) -> None:
    ns = tracked_namespace
    sizes = {key: 100 + i for i, key in enumerate(KEYS)} | {f"bulk/{i:04d}.txt": 10 for i in range(2500)}
    run = published_run(tracker_operator, ns, s3_server, s3_bucket, "run-1", sizes)
    put_objects(s3_server.client(), s3_bucket, [("runs/run-10/keep.bam", 5), ("runs/run-1.txt", 5)])

    apply_job(tracker_operator, ns, "delete-run-1", run=run, operation="delete_outputs")
    status = wait_finished(tracker_operator, ns, "delete-run-1")
    assert (status["phase"], status["reason"]) == ("Succeeded", "Completed"), status
    assert status["objectsDeleted"] == len(sizes)
    assert status["bytesDeleted"] == sum(sizes.values())
    assert status["kubernetesJob"].startswith("tracker-delete-outputs-")
    assert keys_under(s3_server, s3_bucket, "runs/run-1/") == []
    assert sorted(keys_under(s3_server, s3_bucket, "runs/")) == ["runs/run-1.txt", "runs/run-10/keep.bam"]

    wait_until(
        lambda: journal_rows(operator_database, status["jobId"]) == 0,
        timeout=30,
        what="the succeeded job's delete journal to be dropped",
    )

    outputs = status_of(tracker_operator.plane, ns, run)["outputs"]
    assert outputs["size"] == "Deleted"
    assert outputs["deletedBy"] == "admin"
    with session_factory(make_engine(operator_database))() as session:
        record = run_rows.get_run(session, ref=run, namespace=ns)
        assert record is not None
        matches, total = lookup.search_outputs(session, words=["run-1/"], run_id=record.id, limit=5)
        assert total == len(sizes)
        assert all(m.deleted_at is not None for m in matches)

    apply_job(tracker_operator, ns, "delete-run-1-again", run=run, operation="delete_outputs")
    again = wait_finished(tracker_operator, ns, "delete-run-1-again")
    assert (again["phase"], again["reason"]) == ("Succeeded", "AlreadyDeleted")


def test_dry_run_counts_and_changes_nothing(
    tracker_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str
) -> None:
    ns = tracked_namespace
    run = published_run(tracker_operator, ns, s3_server, s3_bucket, "dry-1", {f"f{i}": 1000 for i in range(30)})
    apply_job(tracker_operator, ns, "dry-delete", run=run, operation="delete_outputs", dryRun=True)
    status = wait_finished(tracker_operator, ns, "dry-delete")
    assert status["phase"] == "Succeeded"
    assert status["message"] == (
        f"dry run: would delete 30 objects (29.3 KiB) under s3://{s3_bucket}/runs/dry-1/; nothing was changed"
    )
    assert len(keys_under(s3_server, s3_bucket, "runs/dry-1/")) == 30
    assert "deletedAt" not in status_of(tracker_operator.plane, ns, run)["outputs"]


def test_move_lands_every_object_and_rewrites_every_row(
    tracker_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str, operator_database: str
) -> None:
    ns = tracked_namespace
    sizes = {key: 200 + i for i, key in enumerate(KEYS)} | {f"m/{i}.txt": 64 for i in range(40)}
    run = published_run(tracker_operator, ns, s3_server, s3_bucket, "move-1", sizes)
    destination = f"s3://{s3_bucket}/archive/move-1/"
    apply_job(tracker_operator, ns, "move-1-archive", run=run, operation="move_outputs", destination=destination)
    status = wait_finished(tracker_operator, ns, "move-1-archive")
    assert status["phase"] == "Succeeded", status
    assert status["objectsCopied"] == len(sizes) == status["objectsDeleted"]
    assert status["bytesCopied"] == sum(sizes.values())
    assert status["rowsRewritten"] == len(sizes)

    client = s3_server.client()
    assert keys_under(s3_server, s3_bucket, "runs/move-1/") == []
    for key, size in sizes.items():
        body = client.get_object(Bucket=s3_bucket, Key=f"archive/move-1/{key}")["Body"].read()
        assert body == object_body(f"runs/move-1/{key}", size)
    run_body = json.loads(tracker_operator.plane.kubectl("get", "wfr", run, "-n", ns, "-o", "json").stdout)
    assert run_body["spec"]["outputDir"] == destination
    with session_factory(make_engine(operator_database))() as session:
        assert [r.run_name for r in lookup.lookup_runs_by_url(session, text="archive/move-1/m/7.txt")] == [run]
        assert lookup.lookup_runs_by_url(session, text=f"{s3_bucket}/runs/move-1/m/7.txt") == []


def test_worker_killed_mid_delete_resumes_with_exact_counters(
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    node_agent: Any,
) -> None:
    ns, total = tracked_namespace, 40_000
    seed_objects(s3_server, s3_bucket, prefix="runs/big-1/", count=total, size=10)
    create_run(tracker_operator.plane, ns, "big-1", owner="admin", outputDir=f"s3://{s3_bucket}/runs/big-1/")
    wait_until(lambda: status_of(tracker_operator.plane, ns, "big-1").get("id"), timeout=30, what="big-1's id")
    apply_job(tracker_operator, ns, "delete-big-1", run="big-1", operation="delete_outputs")

    def worker_pid() -> int | None:
        status = job_status(tracker_operator, ns, "delete-big-1")
        if not 0 < status.get("objectsDeleted", 0) < total:
            return None
        pods = json.loads(
            tracker_operator.plane.kubectl(
                "get", "pods", "-n", SYSTEM_NAMESPACE, "-l", f"job-name={status['kubernetesJob']}", "-o", "json"
            ).stdout
        )["items"]
        running = [p for p in pods if p["status"].get("phase") == "Running"]
        return node_agent.container_pid(SYSTEM_NAMESPACE, running[0]["metadata"]["name"], "worker") if running else None

    pid = wait_until(worker_pid, timeout=120, interval=0.05, what="the worker to be mid-delete")
    os.kill(pid, signal.SIGKILL)
    status = wait_finished(tracker_operator, ns, "delete-big-1", timeout=300)
    assert status["phase"] == "Succeeded", status
    assert (status["objectsDeleted"], status["bytesDeleted"]) == (total, total * 10)
    assert keys_under(s3_server, s3_bucket, "runs/big-1/") == []

    def pod_phases() -> list[str]:
        pods = json.loads(
            tracker_operator.plane.kubectl(
                "get", "pods", "-n", SYSTEM_NAMESPACE, "-l", f"job-name={status['kubernetesJob']}", "-o", "json"
            ).stdout
        )["items"]
        return sorted(p["status"]["phase"] for p in pods)

    # The killed pod failed; the Job's next pod finished the work.
    wait_until(lambda: pod_phases() == ["Failed", "Succeeded"], timeout=30, what="the second pod to exit")


@pytest.fixture
def proxied_operator(
    tracker_operator: Operator,
    fault_proxy: FaultProxy,
    operator_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Operator]:
    """The session's operator steps aside for one (same index) whose workers reach S3
    through the fault proxy."""
    tracker_operator.stop()
    operator = Operator(
        plane=tracker_operator.plane,
        s3=tracker_operator.s3,
        database_url=operator_database,
        state_dir=Path(tmp_path_factory.mktemp("proxied-operator")),
        extra_env={"TRACKER_S3__ENDPOINT_URL": fault_proxy.endpoint_url},
    )
    try:
        yield operator.start()
    finally:
        operator.stop()
        tracker_operator.start()


def journal_rows(database_url: str, job_id: str) -> int:
    with session_factory(make_engine(database_url))() as session:
        return int(
            session.scalar(select(func.count()).select_from(DeleteBatch).where(DeleteBatch.job_id == job_id)) or 0
        )


@pytest.mark.parametrize(
    ("operation", "refused", "named"),
    [
        ("delete_outputs", "DeleteObjects", "S3 denied DeleteObjects under {prefix}: AccessDenied"),
        ("index_outputs", "ListObjectsV2", "S3 denied listing {prefix} (s3:ListBucket): AccessDenied"),
    ],
    ids=["delete", "index"],
)
def test_access_denied_by_s3_fails_the_job_naming_what_was_refused(
    proxied_operator: Operator,
    fault_proxy: FaultProxy,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    operator_database: str,
    operation: str,
    refused: str,
    named: str,
) -> None:
    """S3 answers 403 AccessDenied on the wire: the job fails at once, saying which call
    on which prefix was refused, and `tracker outputs job-status` shows it."""
    ns, prefix = tracked_namespace, f"s3://{s3_bucket}/runs/denied-1/"
    put_objects(s3_server.client(), s3_bucket, [(f"runs/denied-1/f{i}.bam", 10) for i in range(5)])
    create_run(proxied_operator.plane, ns, "denied-1", owner="admin", outputDir=prefix)
    wait_until(lambda: status_of(proxied_operator.plane, ns, "denied-1").get("id"), timeout=30, what="an id")
    fault_proxy.add_rule("access_denied", operation=refused, times=None)

    apply_job(proxied_operator, ns, "denied-job", run="denied-1", operation=operation)
    status = wait_finished(proxied_operator, ns, "denied-job")
    assert (status["phase"], status["reason"]) == ("Failed", "AccessDenied"), status
    assert status["message"].startswith(named.format(prefix=prefix)), status["message"]
    assert fault_proxy.count(refused, status=403) == 1  # at once: never retried
    assert len(keys_under(s3_server, s3_bucket, "runs/denied-1/")) == 5

    shown = Cli(proxied_operator.plane.kubeconfig, ns)("outputs", "job-status", status["jobId"])
    assert shown.returncode == 0, shown.stderr
    assert f"{operation}  failed  (id={status['jobId']})" in shown.stdout
    assert "reason: AccessDenied" in shown.stdout
    assert f"message: {status['message']}" in shown.stdout
    # The batch journalled before the refused DeleteObjects goes with the failed job.
    wait_until(
        lambda: journal_rows(operator_database, status["jobId"]) == 0,
        timeout=30,
        what="the failed job's delete journal to be dropped",
    )


def test_operator_killed_mid_job_then_restarted_finishes_it(
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    operator_database: str,
) -> None:
    from tracker.store import jobs as job_rows

    ns = tracked_namespace
    first = published_run(tracker_operator, ns, s3_server, s3_bucket, "opkill-1", {f"f{i}": 10 for i in range(50)})
    second = published_run(tracker_operator, ns, s3_server, s3_bucket, "opkill-2", {f"f{i}": 10 for i in range(20)})
    apply_job(tracker_operator, ns, "delete-opkill-1", run=first, operation="delete_outputs")
    admitted = wait_until(
        lambda: (s := job_status(tracker_operator, ns, "delete-opkill-1")).get("phase") and s,
        timeout=60,
        what="the first job to be admitted",
    )
    tracker_operator.kill()
    # While it is down: the worker goes on alone, and a second job waits for admission.
    apply_job(tracker_operator, ns, "delete-opkill-2", run=second, operation="delete_outputs")
    done = wait_finished(tracker_operator, ns, "delete-opkill-1")
    assert (done["phase"], done["objectsDeleted"]) == ("Succeeded", 50)
    assert job_status(tracker_operator, ns, "delete-opkill-2") == {}

    tracker_operator.start()
    later = wait_finished(tracker_operator, ns, "delete-opkill-2", timeout=240)
    assert (later["phase"], later["objectsDeleted"]) == ("Succeeded", 20)
    sessions = session_factory(make_engine(operator_database))

    def recorded() -> bool:
        with sessions() as session:
            job = job_rows.get_job(session, job_id=admitted["jobId"])
            return job is not None and job.phase == "Succeeded" and job.counters.objects_deleted == 50

    wait_until(recorded, timeout=60, what="the first job's outcome in the index after the restart")


# -- two requests in one apply: a job's outcome is its own -----------------------------------
def apply_jobs(operator: Operator, namespace: str, *jobs: tuple[str, dict[str, Any]]) -> None:
    """Every job in ONE `kubectl apply` (a List), in the order given."""
    items = [
        {
            "apiVersion": "tracker.dev/v1alpha1",
            "kind": "OutputLifecycleJob",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"requestedBy": "admin", **spec},
        }
        for name, spec in jobs
    ]
    operator.plane.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def job_body(operator: Operator, namespace: str, name: str) -> dict[str, Any]:
    return json.loads(operator.plane.kubectl("get", "olj", name, "-n", namespace, "-o", "json").stdout)


def conditions_of(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The job's own conditions (the worker pod's WorkerStarted is followed elsewhere)."""
    return {
        c["type"]: (c["status"], c["reason"]) for c in status.get("conditions") or () if c["type"] != "WorkerStarted"
    }


def test_a_real_delete_during_a_dry_run_is_refused_naming_it(
    tracker_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str
) -> None:
    ns = tracked_namespace
    sizes = {f"f{i}.txt": 100 + i for i in range(30)}
    run = published_run(tracker_operator, ns, s3_server, s3_bucket, "both-1", sizes)
    apply_jobs(
        tracker_operator,
        ns,
        ("both-1-dry", {"run": run, "operation": "delete_outputs", "dryRun": True}),
        ("both-1-real", {"run": run, "operation": "delete_outputs"}),
    )
    dry_uid = job_body(tracker_operator, ns, "both-1-dry")["metadata"]["uid"]
    real = job_body(tracker_operator, ns, "both-1-real")

    refused = wait_finished(tracker_operator, ns, "both-1-real", timeout=60)
    assert (refused["phase"], refused["reason"], refused["jobId"]) == ("Failed", "Busy", real["metadata"]["uid"])
    assert refused["message"] == (
        f"run '{run}' is busy: delete_outputs (dry run) job {dry_uid} (both-1-dry) is enqueued; this "
        "delete_outputs request was not started: request it again when that job has finished"
    )
    assert refused["activeJob"] == {
        "jobId": dry_uid,
        "name": "both-1-dry",
        "operation": "delete_outputs",
        "dryRun": True,
        "phase": "Enqueued",
    }
    assert conditions_of(refused) == {
        "Admitted": ("False", "Busy"),
        "Running": ("False", "Busy"),
        "Succeeded": ("False", "Busy"),
        "Failed": ("True", "Busy"),
    }
    assert "kubernetesJob" not in refused
    assert refused["observedGeneration"] == 1
    assert "tracker.dev/duplicate-of" not in (
        job_body(tracker_operator, ns, "both-1-real")["metadata"].get("labels") or {}
    )

    dry = wait_finished(tracker_operator, ns, "both-1-dry")
    assert (dry["phase"], dry["reason"], dry["jobId"]) == ("Succeeded", "Completed", dry_uid)
    assert (dry["objectsToDelete"], dry["bytesToDelete"], dry["objectsDeleted"]) == (30, sum(sizes.values()), 0)
    assert dry["source"] == f"s3://{s3_bucket}/runs/{run}/"
    assert conditions_of(dry) == {
        "Admitted": ("True", "Admitted"),
        "Running": ("False", "Completed"),
        "Succeeded": ("True", "Completed"),
        "Failed": ("False", "Completed"),
    }
    assert dry["observedGeneration"] == 1
    assert len(keys_under(s3_server, s3_bucket, f"runs/{run}/")) == 30
    assert "deletedAt" not in status_of(tracker_operator.plane, ns, run)["outputs"]
    # The refused request keeps its own outcome after the dry run finished.
    assert job_status(tracker_operator, ns, "both-1-real") == refused


def test_two_identical_deletes_in_one_apply_are_one_job(
    tracker_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str
) -> None:
    ns = tracked_namespace
    sizes = {f"f{i}.txt": 10 for i in range(25)}
    run = published_run(tracker_operator, ns, s3_server, s3_bucket, "twin-1", sizes)
    apply_jobs(
        tracker_operator,
        ns,
        ("twin-1-a", {"run": run, "operation": "delete_outputs"}),
        ("twin-1-b", {"run": run, "operation": "delete_outputs"}),
    )
    first_uid = job_body(tracker_operator, ns, "twin-1-a")["metadata"]["uid"]

    second = wait_until(
        lambda: (s := job_status(tracker_operator, ns, "twin-1-b")).get("phase") and s,
        timeout=60,
        what="the second request to be admitted",
    )
    assert (second["jobId"], second["reason"]) == (first_uid, "Duplicate")
    assert second["activeJob"] == {
        "jobId": first_uid,
        "name": "twin-1-a",
        "operation": "delete_outputs",
        "dryRun": False,
        "phase": "Enqueued",
    }
    labels = job_body(tracker_operator, ns, "twin-1-b")["metadata"]["labels"]
    assert labels["tracker.dev/duplicate-of"] == first_uid

    first = wait_finished(tracker_operator, ns, "twin-1-a")
    assert (first["phase"], first["objectsDeleted"]) == ("Succeeded", 25)
    followed = wait_until(
        lambda: (s := job_status(tracker_operator, ns, "twin-1-b")).get("phase") == "Succeeded" and s,
        timeout=60,
        what="the duplicate to follow the first job",
    )
    assert (followed["jobId"], followed["reason"]) == (first_uid, "Duplicate")
    assert (followed["objectsDeleted"], followed["bytesDeleted"]) == (25, 250)
    assert followed["kubernetesJob"] == first["kubernetesJob"]
    assert conditions_of(followed)["Succeeded"] == ("True", "Duplicate")  # its own reason: it followed
    jobs = json.loads(tracker_operator.plane.kubectl("get", "jobs", "-A", "-o", "json").stdout)["items"]
    ours = [
        j["metadata"]["name"]
        for j in jobs
        if j["metadata"]["labels"].get("tracker.dev/lifecycle-job-namespace") == ns
        and j["metadata"]["labels"].get("tracker.dev/operation") == "delete_outputs"
    ]
    assert ours == [first["kubernetesJob"]]  # one Kubernetes Job for both requests
    assert keys_under(s3_server, s3_bucket, f"runs/{run}/") == []


def test_a_job_applied_before_its_run_waits_for_the_run(
    tracker_operator: Operator, tracked_namespace: str, s3_bucket: str
) -> None:
    """The job meets no run at admission: a retry (kopf records it on the job), not
    RunNotFound; the run created meanwhile is found."""
    ns, plane = tracked_namespace, tracker_operator.plane
    apply_jobs(tracker_operator, ns, ("early-mark", {"run": "early", "operation": "mark_outputs_deleted"}))

    def retried_or_admitted() -> dict[str, Any] | None:
        body = job_body(tracker_operator, ns, "early-mark")
        retried = any(k.startswith("tracker.dev/admit_job") for k in body["metadata"].get("annotations") or {})
        return body if retried or (body.get("status") or {}).get("phase") else None

    seen = wait_until(retried_or_admitted, timeout=30, what="the operator to look at the job")
    assert (seen.get("status") or {}).get("phase") is None, seen["status"]  # not refused: it waits
    create_run(plane, ns, "early", owner="admin", outputDir=f"s3://{s3_bucket}/runs/early/")
    status = wait_finished(tracker_operator, ns, "early-mark", timeout=60)
    assert (status["phase"], status["reason"], status["rowsMarkedDeleted"]) == ("Succeeded", "Completed", 0), status
    assert status["runId"] == status_of(plane, ns, "early")["id"]
    assert conditions_of(status)["Succeeded"] == ("True", "Completed")
    generation = json.loads(plane.kubectl("get", "wfr", "early", "-n", ns, "-o", "json").stdout)["metadata"][
        "generation"
    ]
    wait_until(
        lambda: status_of(plane, ns, "early").get("observedGeneration") == generation,
        timeout=30,
        what="the run's observedGeneration",
    )
