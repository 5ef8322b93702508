"""Where lifecycle jobs' workers run and what happens when they cannot: worker Jobs in
the system namespace (a user's namespace holds no Secret), traceable from the
OutputLifecycleJob and deleted with it, and a worker pod that cannot start reported
on the job within seconds, then failing it at the start deadline."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.cli import Cli
from fixtures.workflowruns import create_run, events_for, status_of

from localcluster.controlplane import ControlPlane
from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import SYSTEM_NAMESPACE, Operator
from tracker.kube.resources import LABEL_LIFECYCLE_JOB_UID

pytestmark = pytest.mark.cluster
START_DEADLINE_SECONDS = 12
MISSING_SECRET = "no-such-s3-secret"


def apply_job(plane: ControlPlane, namespace: str, name: str, run: str) -> dict[str, Any]:
    manifest = {
        "apiVersion": "tracker.dev/v1alpha1",
        "kind": "OutputLifecycleJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"requestedBy": "admin", "run": run, "operation": "delete_outputs"},
    }
    plane.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    return get_olj(plane, namespace, name)


def get_olj(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    return json.loads(plane.kubectl("get", "olj", name, "-n", namespace, "-o", "json").stdout)


def olj_status(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    return get_olj(plane, namespace, name).get("status") or {}


def condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), None)


def items(plane: ControlPlane, kind: str, namespace: str, *selector: str) -> list[dict[str, Any]]:
    return json.loads(plane.kubectl("get", kind, "-n", namespace, "-o", "json", *selector).stdout)["items"]


def run_with_outputs(plane: ControlPlane, namespace: str, s3: S3Server, bucket: str, name: str) -> str:
    put_objects(s3.client(), bucket, [(f"wj/{name}/f{i}.txt", 10) for i in range(5)])
    create_run(plane, namespace, name, owner="admin", outputDir=f"s3://{bucket}/wj/{name}/")
    wait_until(lambda: status_of(plane, namespace, name).get("id"), timeout=30, what=f"{name}'s id")
    return name


def job_gone(plane: ControlPlane, name: str) -> bool:
    missing = plane.kubectl("get", "job", name, "-n", SYSTEM_NAMESPACE, check=False)
    return missing.returncode != 0 and "NotFound" in missing.stderr


def test_a_delete_in_a_namespace_without_secrets_runs_its_worker_in_the_system_namespace(
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    assert items(plane, "secrets", ns) == []  # as a user makes a namespace: no tracker credentials
    run = run_with_outputs(plane, ns, s3_server, s3_bucket, "nosecrets-1")
    created = apply_job(plane, ns, "delete-nosecrets-1", run)
    status = wait_until(
        lambda: (s := olj_status(plane, ns, "delete-nosecrets-1")).get("phase") in ("Succeeded", "Failed") and s,
        timeout=120,
        what="the delete job to finish",
    )
    assert (status["phase"], status["objectsDeleted"]) == ("Succeeded", 5), status
    assert status["kubernetesJobNamespace"] == SYSTEM_NAMESPACE
    assert condition(status, "WorkerStarted")["status"] == "True"
    job = json.loads(plane.kubectl("get", "job", status["kubernetesJob"], "-n", SYSTEM_NAMESPACE, "-o", "json").stdout)
    labels = job["metadata"]["labels"]
    assert (
        labels["tracker.dev/lifecycle-job-namespace"],
        labels["tracker.dev/lifecycle-job"],
        labels[LABEL_LIFECYCLE_JOB_UID],
    ) == (ns, "delete-nosecrets-1", created["metadata"]["uid"])
    pods = items(plane, "pods", SYSTEM_NAMESPACE, f"-l{LABEL_LIFECYCLE_JOB_UID}={created['metadata']['uid']}")
    assert [p["spec"]["serviceAccountName"] for p in pods] == ["tracker-worker"]
    assert items(plane, "jobs", ns) == []
    assert items(plane, "pods", ns) == []
    assert items(plane, "secrets", ns) == []
    events = events_for(plane, ns, "delete-nosecrets-1")
    assert any(
        e["reason"] == "WorkerJobCreated"
        and e["type"] == "Normal"
        and f"{SYSTEM_NAMESPACE}/{status['kubernetesJob']}" in e["message"]
        for e in events
    ), events


@pytest.fixture(scope="module")
def secretless_operator(tracker_operator: Operator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    """The session's operator steps aside for one whose workers read a Secret that does not
    exist, with a short start deadline."""
    tracker_operator.stop()
    operator = Operator(
        plane=tracker_operator.plane,
        s3=tracker_operator.s3,
        database_url=tracker_operator.database_url,
        state_dir=Path(tmp_path_factory.mktemp("secretless-operator")),
        extra_env={
            "TRACKER_WORKER__S3_CREDENTIALS_SECRET": MISSING_SECRET,
            "TRACKER_WORKER__START_DEADLINE_SECONDS": str(START_DEADLINE_SECONDS),
        },
    )
    operator.start()
    yield operator
    operator.stop()
    tracker_operator.start()


def test_a_worker_that_cannot_start_says_why_within_seconds_then_fails_at_its_deadline(
    secretless_operator: Operator,
    namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    plane, ns = secretless_operator.plane, namespace
    run = run_with_outputs(plane, ns, s3_server, s3_bucket, "stuck-1")
    started = time.monotonic()
    apply_job(plane, ns, "delete-stuck-1", run)

    def blocked() -> dict[str, Any] | None:
        status = olj_status(plane, ns, "delete-stuck-1")
        worker = condition(status, "WorkerStarted")
        return status if worker and worker["reason"] == "CreateContainerConfigError" else None

    try:
        waiting = wait_until(blocked, timeout=START_DEADLINE_SECONDS, what="WorkerStarted=False with the reason")
    except TimeoutError:
        print(secretless_operator.log_tail())
        raise
    assert time.monotonic() - started < START_DEADLINE_SECONDS
    worker = condition(waiting, "WorkerStarted")
    assert worker["status"] == "False"
    assert f'secrets "{MISSING_SECRET}" not found' in worker["message"]
    assert (waiting["phase"], waiting["reason"]) == ("Enqueued", "CreateContainerConfigError")
    assert f'secrets "{MISSING_SECRET}" not found' in waiting["message"]

    failed = wait_until(
        lambda: (s := olj_status(plane, ns, "delete-stuck-1")).get("phase") == "Failed" and s,
        timeout=START_DEADLINE_SECONDS + 30,
        what="the job to fail at its start deadline",
    )
    assert failed["reason"] == "CreateContainerConfigError"
    assert failed["message"].startswith(f"the worker did not start within {START_DEADLINE_SECONDS}s")
    assert f'secrets "{MISSING_SECRET}" not found' in failed["message"]
    # Its Job (and the pod that waited for the Secret) is gone: nothing waits for hours.
    wait_until(lambda: job_gone(plane, failed["kubernetesJob"]), timeout=30, what="the stuck Job to be deleted")


def test_delete_wait_names_the_reason_on_timeout_and_ends_with_exit_1_at_the_deadline(
    secretless_operator: Operator,
    namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    plane, ns = secretless_operator.plane, namespace
    run = run_with_outputs(plane, ns, s3_server, s3_bucket, "stuck-2")
    admin = Cli(plane.kubeconfig, ns)
    early = admin("outputs", "delete", run, "--wait", "--timeout", f"{START_DEADLINE_SECONDS // 2}s")
    assert early.returncode == 124, (early.stdout, early.stderr)
    assert "its worker cannot start: CreateContainerConfigError" in early.stderr
    assert f'secrets "{MISSING_SECRET}" not found' in early.stderr

    # Waiting again follows the same job to its deadline: exit 1, the reason on stderr.
    final = admin("outputs", "delete", run, "--wait", "--timeout", "2m")
    assert final.returncode == 1, (final.stdout, final.stderr)
    error = final.stderr.strip()
    assert "\n" not in error
    assert error.startswith("tracker: job ")
    assert "failed (CreateContainerConfigError)" in error
    assert f'secrets "{MISSING_SECRET}" not found' in error


def test_deleting_the_lifecycle_job_deletes_its_kubernetes_job_and_pods(
    secretless_operator: Operator,
    namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    plane, ns = secretless_operator.plane, namespace
    run = run_with_outputs(plane, ns, s3_server, s3_bucket, "stuck-3")
    uid = apply_job(plane, ns, "delete-stuck-3", run)["metadata"]["uid"]
    pods = f"-l{LABEL_LIFECYCLE_JOB_UID}={uid}"
    wait_until(lambda: items(plane, "pods", SYSTEM_NAMESPACE, pods), timeout=30, what="the worker pod")
    job = olj_status(plane, ns, "delete-stuck-3")["kubernetesJob"]
    plane.kubectl("delete", "olj", "delete-stuck-3", "-n", ns)
    wait_until(lambda: job_gone(plane, job), timeout=30, what="the Kubernetes Job to go with its lifecycle job")
    wait_until(lambda: not items(plane, "pods", SYSTEM_NAMESPACE, pods), timeout=60, what="its pods to go too")


def test_a_job_whose_lifecycle_job_went_while_the_operator_was_down_is_deleted_at_start(
    secretless_operator: Operator,
    namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    plane, ns = secretless_operator.plane, namespace
    run = run_with_outputs(plane, ns, s3_server, s3_bucket, "stuck-4")
    apply_job(plane, ns, "delete-stuck-4", run)
    job = wait_until(
        lambda: olj_status(plane, ns, "delete-stuck-4").get("kubernetesJob"), timeout=30, what="the Kubernetes Job"
    )
    secretless_operator.stop()
    plane.kubectl("delete", "olj", "delete-stuck-4", "-n", ns)
    assert not job_gone(plane, job)
    secretless_operator.start()
    wait_until(lambda: job_gone(plane, job), timeout=60, what="the orphaned Job to be deleted after the restart")
