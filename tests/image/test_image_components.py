"""`tracker-operator` and `tracker-worker` from the image under runc, against a control
plane of the tier's own and the session's S3 server: the operator reconciles a run and
runs its lifecycle jobs as Kubernetes Jobs (in the system namespace); each Job's pod (no node runs it here) is run
from the image with the command, arguments, environment and service account the
operator gave it, and the worker deletes the run's prefix."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.image import (
    INDEX_MOUNT,
    KUBECONFIG_MOUNT,
    Container,
    Image,
    Mount,
    owned_by_pod_user,
    process_status,
    run_to_completion,
)
from fixtures.workflowruns import condition, create_run, now, report, status_of

from localcluster.controlplane import ControlPlane
from localcluster.kubeconfig import write_kubeconfig
from localcluster.nodeagent.env import EnvSources, config_map_data, container_argv, container_env, secret_data
from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import SYSTEM_NAMESPACE, provide_s3_secret

# The first test of a session may build the image (scripts/test builds it beforehand).
pytestmark = [pytest.mark.image, pytest.mark.timeout(1800)]


def kube_json(plane: ControlPlane, *args: str) -> Any:
    return json.loads(plane.kubectl(*args, "-o", "json").stdout)


@pytest.fixture
def image_namespace(image_plane: ControlPlane, s3_server: S3Server) -> Iterator[str]:
    name = f"img-{uuid.uuid4().hex[:10]}"
    image_plane.kubectl("create", "namespace", name)
    provide_s3_secret(image_plane, s3_server)  # where worker Jobs run, the system namespace
    yield name
    image_plane.kubectl("delete", "namespace", name, "--wait=false", check=False)


def lifecycle_job(plane: ControlPlane, namespace: str, operation: str) -> dict[str, Any] | None:
    jobs = kube_json(plane, "get", "olj", "-n", namespace)["items"]
    return next((j for j in jobs if j["spec"]["operation"] == operation), None)


def run_job_pod(
    plane: ControlPlane, image: Image, namespace: str, job_name: str, index_dir: Path, state_dir: Path
) -> tuple[int, str]:
    """Run the pod of Kubernetes Job `job_name` from the image, as a kubelet would: the
    container's command and environment resolved from the pod spec, a token of the pod's
    service account."""
    template = kube_json(plane, "get", "job", job_name, "-n", namespace)["spec"]["template"]
    pod = {
        "metadata": {**template.get("metadata", {}), "name": f"{job_name}-image", "namespace": namespace},
        "spec": template["spec"],
    }
    (container,) = pod["spec"]["containers"]

    def lookup(kind: str, data: Any) -> Any:
        def get(name: str) -> dict[str, str] | None:
            found = plane.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
            return data(json.loads(found.stdout)) if found.returncode == 0 else None

        return get

    env = container_env(
        pod,
        container,
        EnvSources(config_map=lookup("configmap", config_map_data), secret=lookup("secret", secret_data)),
    )
    account = pod["spec"].get("serviceAccountName") or "default"
    token = plane.kubectl("create", "token", account, "-n", namespace, "--duration=1h").stdout.strip()
    credentials = state_dir / "credentials"
    write_kubeconfig(
        credentials / "kubeconfig",
        server=plane.server,
        ca_pem=plane.ca_file.read_bytes(),
        user=f"system:serviceaccount:{namespace}:{account}",
        token=token,
        namespace=namespace,
    )
    owned_by_pod_user(credentials)
    worker = Container(
        image=image,
        name="worker",
        state_dir=state_dir,
        argv=container_argv(container, env),
        env={**env, "KUBECONFIG": f"{KUBECONFIG_MOUNT}/kubeconfig"},
        mounts=[Mount(credentials, KUBECONFIG_MOUNT), Mount(index_dir, INDEX_MOUNT, writable=True)],
    )
    return run_to_completion(worker, timeout=300)


def finished(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any] | None:
    status = kube_json(plane, "get", "olj", name, "-n", namespace).get("status") or {}
    return status if status.get("phase") in ("Succeeded", "Failed") else None


def run_lifecycle_job(
    plane: ControlPlane, image: Image, namespace: str, name: str, index_dir: Path, state_dir: Path
) -> dict[str, Any]:
    """Wait for the operator's Kubernetes Job of lifecycle job `name` (in the system namespace,
    where worker Jobs run), run its pod, return the lifecycle job's status."""
    job_name = wait_until(
        lambda: (kube_json(plane, "get", "olj", name, "-n", namespace).get("status") or {}).get("kubernetesJob"),
        timeout=120,
        what=f"the Kubernetes Job of {name}",
    )
    code, log = run_job_pod(plane, image, SYSTEM_NAMESPACE, job_name, index_dir, state_dir / name)
    assert code == 0, log
    return wait_until(lambda: finished(plane, namespace, name), timeout=60, what=f"{name} to finish")


def test_the_operator_reconciles_a_run(
    image_operator: Container, image_plane: ControlPlane, image_namespace: str
) -> None:
    create_run(image_plane, image_namespace, "image-run-1")
    report(image_plane, image_namespace, "image-run-1", {"phase": "Running", "lastHeartbeatTime": now()})

    status = wait_until(
        lambda: (
            (s := status_of(image_plane, image_namespace, "image-run-1")).get("id")
            and condition(s, "Disconnected")
            and s
        ),
        timeout=60,
        what="the operator's status",
    )
    assert status["state"] == "Running"
    assert condition(status, "Disconnected")["status"] == "False"
    operator = process_status(image_operator.pid())
    assert (operator["Uid"].split()[0], operator["CapEff"], operator["NoNewPrivs"]) == ("10001", "0" * 16, "1")


def test_the_worker_deletes_the_runs_prefix(
    image_operator: Container,
    image_plane: ControlPlane,
    image_namespace: str,
    tracker_image: Image,
    s3_server: S3Server,
    s3_bucket: str,
    index_dir: Path,
    tmp_path: Path,
) -> None:
    ns, run = image_namespace, "image-run-2"
    objects = {f"runs/{run}/{key}": 100 + i for i, key in enumerate(["a.bam", "dir with spaces/b.vcf", "c/"])}
    put_objects(s3_server.client(), s3_bucket, [*objects.items(), (f"runs/{run}0/keep.bam", 5)])
    create_run(image_plane, ns, run, owner="admin", outputDir=f"s3://{s3_bucket}/runs/{run}/")
    report(image_plane, ns, run, {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})

    index_job = wait_until(
        lambda: lifecycle_job(image_plane, ns, "index_outputs"), timeout=60, what="the operator's index_outputs job"
    )
    indexed = run_lifecycle_job(image_plane, tracker_image, ns, index_job["metadata"]["name"], index_dir, tmp_path)
    assert indexed["phase"] == "Succeeded", indexed
    assert status_of(image_plane, ns, run)["outputs"]["count"] == len(objects)

    image_plane.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "tracker.dev/v1alpha1",
                "kind": "OutputLifecycleJob",
                "metadata": {"name": "delete-image-run-2", "namespace": ns},
                "spec": {"requestedBy": "admin", "run": run, "operation": "delete_outputs"},
            }
        ),
    )
    deleted = run_lifecycle_job(image_plane, tracker_image, ns, "delete-image-run-2", index_dir, tmp_path)

    assert (deleted["phase"], deleted["reason"]) == ("Succeeded", "Completed"), deleted
    assert (deleted["objectsDeleted"], deleted["bytesDeleted"]) == (len(objects), sum(objects.values()))
    listing = s3_server.client().list_objects_v2(Bucket=s3_bucket)
    assert [o["Key"] for o in listing.get("Contents", [])] == [f"runs/{run}0/keep.bam"]
    assert status_of(image_plane, ns, run)["outputs"]["size"] == "Deleted"
