"""The CRDs in crds/ as a real kube-apiserver serves them: validation, columns, RBAC."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from localcluster.controlplane import ControlPlane
from localcluster.processes import wait_until

pytestmark = pytest.mark.cluster

API_VERSION = "tracker.dev/v1alpha1"


@pytest.fixture(scope="module")
def plane(crds_installed: ControlPlane) -> ControlPlane:
    """The control plane with crds/ applied and Established (see fixtures/controlplane.py)."""
    return crds_installed


@pytest.fixture(scope="module")
def ns(plane: ControlPlane) -> Iterator[str]:
    """One namespace for this module, deleted afterwards (without waiting)."""
    name = f"crds-{uuid.uuid4().hex[:8]}"
    plane.kubectl("create", "namespace", name)
    yield name
    plane.kubectl("delete", "namespace", name, "--wait=false", check=False)


def workflow_run(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "WorkflowRun",
        "metadata": {"name": name},
        "spec": {
            "runName": name,
            "owner": "alice",
            "cluster": "hpc-east",
            "engine": "nextflow",
            "workflow": {
                "repository": "https://github.com/nf-core/rnaseq",
                "revision": "3.14.0",
                "commit": "b89fac32650aacc86fcda9ee77e00612a1d77066",
            },
            "workDir": f"s3://work-bucket/work/{name}",
            "outputDir": f"s3://results-bucket/runs/{name}/",
            "sessionId": str(uuid.uuid4()),
            "commandLine": f"nextflow run nf-core/rnaseq -name {name}",
            "params": {"input": "samplesheet.csv", "genome": "GRCh38", "skip": {"qc": True}},
            "configText": "process.executor = 'awsbatch'",
            "heartbeatTimeoutSeconds": 120,
            "stalledAfterSeconds": 900,
        }
        | spec,
    }


def lifecycle_job(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "OutputLifecycleJob",
        "metadata": {"name": name},
        "spec": {"run": "foo-run-001", "operation": "delete_outputs", "requestedBy": "admin"} | spec,
    }


def without(obj: dict[str, Any], field: str) -> dict[str, Any]:
    obj["spec"].pop(field)
    return obj


def create(plane: ControlPlane, ns: str, obj: dict[str, Any], check: bool = True) -> Any:
    return plane.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(obj), check=check)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def header(table: str) -> list[str]:
    return re.split(r"\s{2,}", table.splitlines()[0].strip())


def test_valid_workflow_run_is_stored_with_its_free_form_params(plane: ControlPlane, ns: str) -> None:
    name = unique("foo-run")
    plane.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(workflow_run(name)))
    stored = json.loads(plane.kubectl("get", "wfr", name, "-n", ns, "-o", "json").stdout)
    assert stored["spec"]["params"] == {"input": "samplesheet.csv", "genome": "GRCh38", "skip": {"qc": True}}
    assert stored["spec"]["outputDir"] == f"s3://results-bucket/runs/{name}/"


def test_bucket_root_output_dir_is_accepted_by_the_schema(plane: ControlPlane, ns: str) -> None:
    # Refusing bucket roots for deletes is runtime logic, not schema.
    create(plane, ns, workflow_run(unique("root-run"), outputDir="s3://results-bucket/"))


def test_kubectl_get_wfr_shows_the_tracker_columns(plane: ControlPlane, ns: str) -> None:
    name = unique("cols-run")
    create(plane, ns, workflow_run(name))
    status = {
        "status": {
            "phase": "Running",
            "state": "Stalled",
            "lastHeartbeatTime": "2026-05-13T19:02:11Z",
            "id": "550e8400-e29b-41d4-a716-446655440000",
            "outputs": {"count": 3, "bytes": 9878424780, "size": "9.2 GiB"},
        }
    }
    plane.kubectl("patch", "wfr", name, "-n", ns, "--subresource=status", "--type=merge", "-p", json.dumps(status))

    table = plane.kubectl("get", "wfr", "-n", ns).stdout
    assert header(table) == ["NAME", "RUN", "STATE", "OWNER", "CLUSTER", "LAST HEARTBEAT", "OUTPUTS", "AGE"]

    def row_and_state() -> tuple[str, str] | None:
        # An operator running in the same cluster may re-derive the state (this heartbeat
        # is old): read the row and status.state until they are one snapshot.
        before = plane.kubectl("get", "wfr", name, "-n", ns, "-o", "jsonpath={.status.state}").stdout
        (line,) = [line for line in plane.kubectl("get", "wfr", "-n", ns).stdout.splitlines() if line.startswith(name)]
        after = plane.kubectl("get", "wfr", name, "-n", ns, "-o", "jsonpath={.status.state}").stdout
        return (line, after) if before == after else None

    row, state = wait_until(row_and_state, timeout=30, what="a stable row")
    assert re.split(r"\s{2,}", row)[:4] == [name, name, state, "alice"]
    assert state in ("Stalled", "Disconnected")
    assert "hpc-east" in row
    assert "9.2 GiB" in row

    wide = plane.kubectl("get", "wfr", name, "-n", ns, "-o", "wide").stdout
    assert header(wide)[-2:] == ["ENGINE", "ID"]
    assert wide.splitlines()[1].split()[-2:] == ["nextflow", "550e8400-e29b-41d4-a716-446655440000"]


def test_kubectl_get_tracker_lists_both_kinds(plane: ControlPlane, ns: str) -> None:
    run, job = unique("cat-run"), unique("cat-job")
    create(plane, ns, workflow_run(run))
    create(plane, ns, lifecycle_job(job, run=run))
    names = plane.kubectl("get", "tracker", "-n", ns, "-o", "name").stdout.split()
    assert f"workflowrun.tracker.dev/{run}" in names
    assert f"outputlifecyclejob.tracker.dev/{job}" in names

    table = plane.kubectl("get", "olj", job, "-n", ns).stdout
    assert header(table) == ["NAME", "RUN", "OPERATION", "PHASE", "REASON", "REQUESTED BY", "AGE"]


def test_dry_run_defaults_to_false(plane: ControlPlane, ns: str) -> None:
    job = unique("default-job")
    create(plane, ns, lifecycle_job(job))
    assert plane.kubectl("get", "olj", job, "-n", ns, "-o", "jsonpath={.spec.dryRun}").stdout == "false"


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        pytest.param(
            workflow_run("r1", outputDir="s3://results-bucket/runs/r1"),
            "outputDir must be an s3://bucket/prefix/ URL ending in '/'",
            id="no-slash",
        ),
        pytest.param(
            workflow_run("r2", outputDir="/data/runs/r2/"),
            "outputDir must be an s3://bucket/prefix/ URL ending in '/'",
            id="not-s3",
        ),
        pytest.param(
            workflow_run("r3", outputDir="s3://Results_Bucket/runs/r3/"),
            "outputDir must name a valid S3 bucket",
            id="bad-bucket",
        ),
        pytest.param(
            workflow_run("r4", workDir="file:///scratch/work"),
            "workDir must be an s3://bucket/path URL",
            id="workdir-not-s3",
        ),
        pytest.param(without(workflow_run("r5"), "owner"), "spec.owner: Required value", id="missing-owner"),
        pytest.param(workflow_run("r6", owner=""), "spec.owner", id="empty-owner"),
        pytest.param(workflow_run("r7", engine="snakemake"), 'Unsupported value: "snakemake"', id="unknown-engine"),
        pytest.param(workflow_run("r8", heartbeatTimeoutSeconds=0), "spec.heartbeatTimeoutSeconds", id="zero-timeout"),
        pytest.param(lifecycle_job("j1", operation="explode"), 'Unsupported value: "explode"', id="unknown-operation"),
        pytest.param(
            lifecycle_job("j2", operation="move_outputs"),
            "destination is required for move_outputs and rewrite_output_paths",
            id="move-without-destination",
        ),
        pytest.param(
            lifecycle_job("j3", operation="rewrite_output_paths"),
            "destination is required for move_outputs and rewrite_output_paths",
            id="rewrite-without-destination",
        ),
        pytest.param(
            lifecycle_job("j4", destination="s3://b-1/x/"), "destination must not be set", id="delete-with-destination"
        ),
        pytest.param(
            lifecycle_job("j5", operation="move_outputs", destination="s3://archive/x"),
            "destination must be an s3://bucket/prefix/ URL ending in '/'",
            id="destination-no-slash",
        ),
        pytest.param(
            lifecycle_job("j6", operation="index_outputs", dryRun=True),
            "dryRun is only supported for delete_outputs and move_outputs",
            id="dry-run-index",
        ),
        pytest.param(
            without(lifecycle_job("j7"), "requestedBy"), "spec.requestedBy: Required value", id="missing-requester"
        ),
    ],
)
def test_invalid_objects_are_refused_with_a_readable_message(
    plane: ControlPlane, ns: str, obj: dict[str, Any], message: str
) -> None:
    refused = create(plane, ns, obj, check=False)
    assert refused.returncode != 0
    assert message in refused.stderr
    assert "is invalid" in refused.stderr


def test_run_name_cannot_change(plane: ControlPlane, ns: str) -> None:
    name = unique("immutable-run")
    create(plane, ns, workflow_run(name))
    refused = plane.kubectl(
        "patch", "wfr", name, "-n", ns, "--type=merge", "-p", '{"spec": {"runName": "renamed"}}', check=False
    )
    assert refused.returncode != 0
    assert "runName is immutable" in refused.stderr
    # Other spec fields stay editable.
    plane.kubectl("patch", "wfr", name, "-n", ns, "--type=merge", "-p", '{"spec": {"cluster": "hpc-west"}}')


def test_lifecycle_job_spec_cannot_change(plane: ControlPlane, ns: str) -> None:
    job = unique("immutable-job")
    create(plane, ns, lifecycle_job(job, dryRun=True))
    refused = plane.kubectl(
        "patch", "olj", job, "-n", ns, "--type=merge", "-p", '{"spec": {"dryRun": false}}', check=False
    )
    assert refused.returncode != 0
    assert "spec is immutable: create a new OutputLifecycleJob" in refused.stderr
    # Status stays writable through the subresource.
    plane.kubectl(
        "patch",
        "olj",
        job,
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"phase": "Running", "objectsDeleted": 5}}',
    )


def test_status_phase_is_validated(plane: ControlPlane, ns: str) -> None:
    name = unique("phase-run")
    create(plane, ns, workflow_run(name))
    refused = plane.kubectl(
        "patch",
        "wfr",
        name,
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"phase": "Exploded"}}',
        check=False,
    )
    assert refused.returncode != 0
    assert 'Unsupported value: "Exploded"' in refused.stderr


def test_kubectl_explain_shows_field_descriptions(plane: ControlPlane) -> None:
    explained = plane.kubectl("explain", "wfr.spec.outputDir").stdout
    assert "ending in '/'" in explained


def test_user_without_rbac_rights_cannot_list_runs(plane: ControlPlane, ns: str) -> None:
    kubeconfig = plane.mint_user(unique("nobody"))
    denied = plane.kubectl("get", "wfr", "-n", ns, kubeconfig=kubeconfig, check=False)
    assert denied.returncode != 0
    assert "Forbidden" in denied.stderr
    assert 'cannot list resource "workflowruns" in API group "tracker.dev"' in denied.stderr
