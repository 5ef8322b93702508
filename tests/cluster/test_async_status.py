"""The operator's asyncio status patches against the real API server: a current
resourceVersion writes, a stale one is a 409 and a missing object a 404, as the
kubernetes client reports them (client-certificate credentials here; the operator's
service-account token in the run-tracking tests)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time

import pytest
from kubernetes.client.exceptions import ApiException

from localcluster.controlplane import ControlPlane
from tracker.kube.asyncstatus import AsyncStatus
from tracker.kube.client import load_api_client
from tracker.kube.resources import GROUP, RUNS, VERSION

pytestmark = pytest.mark.cluster


def test_status_patches_are_guarded_by_resource_version(crds_installed: ControlPlane, namespace: str) -> None:
    plane = crds_installed
    manifest = {
        "apiVersion": "tracker.dev/v1alpha1",
        "kind": "WorkflowRun",
        "metadata": {"name": "patched", "namespace": namespace},
        "spec": {"runName": "patched", "owner": "alice"},
    }
    plane.kubectl("apply", "-f", "-", input=json.dumps(manifest))

    def current_version() -> str:
        run = json.loads(plane.kubectl("get", "wfr", "patched", "-n", namespace, "-o", "json").stdout)
        return str(run["metadata"]["resourceVersion"])

    stale = current_version()
    status = AsyncStatus(load_api_client(plane.kubeconfig).configuration)

    async def patch(name: str, resource_version: str, phase: str) -> None:
        body = {"metadata": {"resourceVersion": resource_version}, "status": {"phase": phase}}
        await status.patch(group=GROUP, version=VERSION, namespace=namespace, plural=RUNS, name=name, body=body)

    async def scenario() -> list[int]:
        codes = []
        try:
            deadline = time.monotonic() + 30
            while True:  # the session's operator may write the run too (its id): look again
                try:
                    await patch("patched", current_version(), "Running")
                    break
                except ApiException as error:
                    if error.status != 409 or time.monotonic() > deadline:
                        raise
            for name in ("patched", "no-such-run"):
                try:
                    await patch(name, stale, "Succeeded")
                except ApiException as error:
                    codes.append(error.status)
        finally:
            await status.close()
        return codes

    # its own loop in its own thread: a loop an earlier test left running does not matter
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, scenario()).result() == [409, 404]
    current = json.loads(
        plane.kubectl("get", "wfr", "patched", "-n", namespace, "-o", "json", "--show-managed-fields").stdout
    )
    assert current["status"]["phase"] == "Running"
    managers = {m["manager"] for m in current["metadata"]["managedFields"] if m.get("subresource") == "status"}
    assert "tracker-operator" in managers
