"""A run's life through the chart-installed system, as its people live it: alice's
runner reports progress with `tracker report`, the operator notices when heartbeats
stop, indexes the outputs when the run succeeds; bob finds the run from an S3 URL; bob
may not delete alice's outputs, alice may; an admin moves another run's outputs. The
read API (with Kubernetes tokens) and the Run Detail page show each step."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from e2e.people import Person, RunsNamespace
from e2e.system import HEARTBEAT_TIMEOUT_SECONDS, E2ESystem
from fixtures.cli import Cli
from fixtures.workflowruns import condition, create_run, status_of

from localcluster.processes import wait_until
from localcluster.s3server import put_objects

pytestmark = pytest.mark.e2e
BUCKET = "e2e-outputs"
OUTPUTS = {"results/sample1.bam": 4096, "results/sample2.bam": 8192, "multiqc/report.html": 512}


@pytest.fixture(scope="module")
def bucket(e2e_system: E2ESystem) -> str:
    client = e2e_system.s3_client()
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=BUCKET)
    return BUCKET


def cli(system: E2ESystem, person: Person, namespace: str) -> Cli:
    token = system.token(person.home, person.name)
    return Cli(person.kubeconfig, namespace, api_url=system.api_url, api_token=token)


def api_get(system: E2ESystem, person: Person, path: str) -> httpx.Response:
    token = system.token(person.home, person.name)
    return httpx.get(f"{system.api_url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=15)


def start_run(system: E2ESystem, ns: RunsNamespace, name: str, bucket: str) -> str:
    """alice's runner creates the run and reports it Running, then publishes outputs."""
    output_dir = f"s3://{bucket}/runs/{name}/"
    put_objects(system.s3_client(), bucket, [(f"runs/{name}/{key}", size) for key, size in OUTPUTS.items()])
    as_alice = SimpleNamespace(kubectl=partial(system.kubectl, kubeconfig=ns.alice.kubeconfig))
    create_run(
        as_alice,
        ns.name,
        name,
        owner=ns.alice.username,
        outputDir=output_dir,
        workflow={"repository": "https://github.com/nf-core/rnaseq", "revision": "3.14", "commit": "abc123"},
    )
    runner = cli(system, ns.alice, ns.name)
    for args in (("phase", name, "Running"), ("heartbeat", name)):
        result = runner("report", *args)
        assert result.returncode == 0, result.stderr
    return output_dir


def wait_for(system: E2ESystem, namespace: str, name: str, what: str, check: Any, timeout: float = 120) -> Any:
    return wait_until(lambda: check(status_of(system, namespace, name)), timeout=timeout, what=f"{name}: {what}")


def test_a_run_from_heartbeats_to_deleted_outputs(
    e2e_system: E2ESystem, runs_namespace: RunsNamespace, bucket: str
) -> None:
    system, ns = e2e_system, runs_namespace
    name = "rnaseq-e2e-001"
    output_dir = start_run(system, ns, name, bucket)
    status = wait_for(
        system, ns.name, name, "indexed as Running", lambda s: s.get("state") == "Running" and s.get("id") and s
    )
    run_id = status["id"]

    # Heartbeats stop: the operator flags the run Disconnected after the chart's threshold.
    disconnected = wait_for(
        system,
        ns.name,
        name,
        "Disconnected",
        lambda s: (c := condition(s, "Disconnected")) and c["status"] == "True" and s,
        timeout=HEARTBEAT_TIMEOUT_SECONDS * 6,
    )
    assert disconnected["state"] == "Disconnected"
    detail = api_get(system, ns.bob, f"/api/v1/runs/{run_id}").json()
    assert detail["disconnected"] is True
    assert detail["owner"] == ns.alice.username

    # The runner comes back and the run succeeds: the outputs get indexed.
    runner = cli(system, ns.alice, ns.name)
    assert runner("report", "heartbeat", name).returncode == 0
    assert runner("report", "phase", name, "Succeeded").returncode == 0
    indexed = wait_for(
        system,
        ns.name,
        name,
        "outputs indexed",
        lambda s: s.get("state") == "Succeeded" and (s.get("outputs") or {}).get("indexedAt") and s,
    )
    assert indexed["outputs"]["count"] == len(OUTPUTS)

    # bob finds which run produced a file.
    bob = cli(system, ns.bob, ns.name)
    info = bob("outputs", "info", f"{output_dir}results/sample1.bam")
    assert info.returncode == 0, info.stderr
    assert name in info.stdout
    assert run_id in info.stdout

    # bob may not delete alice's outputs; alice may.
    refused = bob("outputs", "delete", name, "--wait", "--timeout", "2m")
    assert refused.returncode == 1
    assert "Forbidden" in refused.stderr
    deleted = runner("outputs", "delete", name, "--wait", "--timeout", "4m")
    assert deleted.returncode == 0, deleted.stderr
    remaining = system.s3_client().list_objects_v2(Bucket=bucket, Prefix=f"runs/{name}/").get("KeyCount")
    assert remaining == 0
    outputs = api_get(system, ns.bob, f"/api/v1/runs/{run_id}").json()["outputs"]
    assert outputs["deleted"] is True
    assert outputs["size"] == "Deleted"
    assert outputs["deletedBy"] == ns.alice.username


def test_an_admin_moves_a_runs_outputs(e2e_system: E2ESystem, runs_namespace: RunsNamespace, bucket: str) -> None:
    system, ns = e2e_system, runs_namespace
    name = "variant-calling-e2e-002"
    start_run(system, ns, name, bucket)
    assert cli(system, ns.alice, ns.name)("report", "phase", name, "Succeeded").returncode == 0
    wait_for(system, ns.name, name, "outputs indexed", lambda s: (s.get("outputs") or {}).get("indexedAt"))

    destination = f"s3://{bucket}/archive/{name}/"
    moved = cli(system, ns.admin, ns.name)("outputs", "move", name, destination, "--wait", "--timeout", "4m")
    assert moved.returncode == 0, moved.stderr
    client = system.s3_client()
    at_destination = {o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=f"archive/{name}/")["Contents"]}
    assert at_destination == {f"archive/{name}/{key}" for key in OUTPUTS}
    assert client.list_objects_v2(Bucket=bucket, Prefix=f"runs/{name}/").get("KeyCount") == 0
    found = cli(system, ns.bob, ns.name)("outputs", "info", f"{destination}results/sample2.bam")
    assert found.returncode == 0, found.stderr
    assert name in found.stdout, found.stderr


def test_the_run_detail_page_is_served_to_a_signed_in_user(
    e2e_system: E2ESystem, runs_namespace: RunsNamespace, bucket: str
) -> None:
    system, ns = e2e_system, runs_namespace
    name = "page-e2e-003"
    start_run(system, ns, name, bucket)
    wait_for(system, ns.name, name, "indexed", lambda s: s.get("id"))
    page = api_get(system, ns.bob, f"/runs/{name}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert name in page.text
    assert "https://github.com/nf-core/rnaseq" in page.text
