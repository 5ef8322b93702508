"""A status write that meets a concurrent writer (409 Conflict from the real API server)
recomputes its patch after a growing, jittered pause, and loses no other write."""

from __future__ import annotations

import json

import pytest

from localcluster.controlplane import ControlPlane
from tracker.kube.client import load_api_client
from tracker.kube.resources import JOBS
from tracker.kube.status import conflict_backoff, patch_status

pytestmark = pytest.mark.cluster


def test_a_conflicting_status_write_backs_off_and_keeps_the_other_write(
    crds_installed: ControlPlane, namespace: str
) -> None:
    plane = crds_installed
    manifest = {
        "apiVersion": "tracker.dev/v1alpha1",
        "kind": "OutputLifecycleJob",
        "metadata": {"name": "contended", "namespace": namespace},
        "spec": {"run": "r", "operation": "mark_outputs_deleted", "requestedBy": "admin"},
    }
    plane.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    api = load_api_client(plane.kubeconfig)
    sleeps: list[float] = []
    seen: list[dict[str, object]] = []

    def compute(current: dict[str, object]) -> dict[str, object]:
        seen.append(dict(current.get("status") or {}))  # type: ignore[call-overload]
        if len(seen) <= 2:  # another writer lands between our read and our write, twice
            plane.kubectl(
                "patch",
                "olj",
                "contended",
                "-n",
                namespace,
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps({"status": {"message": f"other writer {len(seen)}"}}),
            )
        return {"reason": "Mine"}

    patched = patch_status(
        api, plural=JOBS, namespace=namespace, name="contended", compute=compute, sleep=sleeps.append
    )
    # (The session's operator, when running, may write too: each write is one more conflict.)
    assert len(seen) >= 3
    assert patched["status"]["reason"] == "Mine"
    assert len(sleeps) == len(seen) - 1
    assert 0 < sleeps[0] <= conflict_backoff(0, lambda: 1.0) <= conflict_backoff(1, lambda: 0.0) <= sleeps[1]
