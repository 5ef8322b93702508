"""Manifest builders: pure functions, checked without a cluster."""

from __future__ import annotations

import pytest

from tracker.kube import manifests
from tracker.settings import Settings, WorkerJobSettings

LIFECYCLE_JOB = {
    "apiVersion": "tracker.dev/v1alpha1",
    "kind": "OutputLifecycleJob",
    "metadata": {"name": "delete-abc", "namespace": "lab", "uid": "7f3e1c2a-0000-4000-8000-000000000001"},
    "spec": {"run": "foo-run-001", "operation": "delete_outputs", "requestedBy": "alice"},
}


def build(settings: Settings) -> dict:
    return manifests.worker_job(
        lifecycle_job=LIFECYCLE_JOB, namespace="tracker-system", run_id="r-1", settings=settings
    )


def test_worker_job_runs_in_the_tracker_namespace_named_to_its_lifecycle_job() -> None:
    settings = Settings(
        worker=WorkerJobSettings(
            image="reg/workflow-tracker:1.2",
            backoff_limit=5,
            active_deadline_seconds=600,
            ttl_seconds_after_finished=60,
            s3_credentials_secret="s3-creds",
        )
    )
    job = build(settings)
    assert job["metadata"]["name"] == "tracker-delete-outputs-7f3e1c2a"
    assert job["metadata"]["namespace"] == "tracker-system"
    assert "ownerReferences" not in job["metadata"]  # they cannot cross namespaces: labels instead
    labels = job["metadata"]["labels"]
    assert (
        labels["tracker.dev/lifecycle-job-namespace"],
        labels["tracker.dev/lifecycle-job"],
        labels["tracker.dev/lifecycle-job-uid"],
    ) == ("lab", "delete-abc", LIFECYCLE_JOB["metadata"]["uid"])
    assert job["spec"]["template"]["metadata"]["labels"] == labels  # the pods too, for the pod watch
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["ttlSecondsAfterFinished"]) == (5, 600, 60)
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "tracker-worker"
    container = pod["containers"][0]
    assert container["image"] == "reg/workflow-tracker:1.2"
    assert container["command"] == ["tracker-worker"]
    assert container["args"] == ["--namespace", "lab", "--job", "delete-abc", "--uid", LIFECYCLE_JOB["metadata"]["uid"]]
    assert container["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]


def test_worker_pods_run_restricted() -> None:
    pod = build(Settings())["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = pod["containers"][0]["securityContext"]
    assert container == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def test_database_password_only_by_secret_reference() -> None:
    with pytest.raises(manifests.UnsafeConfiguration, match="database_secret"):
        build(Settings(database_url="postgresql+psycopg://tracker:s3cret@db/tracker"))
    job = build(
        Settings(
            database_url="postgresql+psycopg://tracker:s3cret@db/tracker",
            worker=WorkerJobSettings(database_secret="tracker-db"),
        )
    )
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "TRACKER_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "tracker-db", "key": "url"}}} in env
    assert "s3cret" not in str(job)


def test_index_job_names_are_stable_per_execution_and_valid() -> None:
    a = manifests.index_job_name("run-1", "2026-05-13T19:00:00Z/x/Succeeded")
    assert a == manifests.index_job_name("run-1", "2026-05-13T19:00:00Z/x/Succeeded")
    assert a != manifests.index_job_name("run-1", "2026-05-14T19:00:00Z/x/Succeeded")
    assert len(manifests.index_job_name("r" * 253, "m")) <= 253


def test_lifecycle_job_resource() -> None:
    resource = manifests.lifecycle_job_resource(
        namespace="lab",
        run_name="foo",
        operation="move_outputs",
        requested_by="alice",
        requested_by_groups=("lab",),
        destination="s3://b/new/",
    )
    assert resource["metadata"]["generateName"] == "move-outputs-"
    assert resource["spec"] == {
        "run": "foo",
        "operation": "move_outputs",
        "requestedBy": "alice",
        "requestedByGroups": ["lab"],
        "destination": "s3://b/new/",
    }


def test_worker_service_account_follows_the_settings() -> None:
    pod = build(Settings(worker=WorkerJobSettings(service_account="wt-worker")))["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "wt-worker"
