"""Runs carry no finalizer: the operator tracks them without a per-run daemon. Runs the
operator of an earlier release left with its finalizer (`tracker.dev/operator`) lose it
when this operator sees them, and one whose deletion waited on it is deleted."""

from __future__ import annotations

import json
import subprocess

import pytest
from fixtures.workflowruns import create_run, get_run, now, report, wait_for_state

from localcluster.processes import wait_until
from localcluster.tracker import Operator

pytestmark = pytest.mark.cluster
OLD_FINALIZER = "tracker.dev/operator"


def create_old_run(operator: Operator, namespace: str, name: str) -> None:
    """A run as the earlier operator left it: its finalizer on, Running, heartbeating."""
    manifest = {
        "apiVersion": "tracker.dev/v1alpha1",
        "kind": "WorkflowRun",
        "metadata": {"name": name, "namespace": namespace, "finalizers": [OLD_FINALIZER]},
        "spec": {"runName": name, "owner": "alice", "heartbeatTimeoutSeconds": 600},
    }
    operator.plane.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    report(operator.plane, namespace, name, {"phase": "Running", "lastHeartbeatTime": now()})


def exists(operator: Operator, namespace: str, name: str) -> bool:
    try:
        get_run(operator.plane, namespace, name)
    except subprocess.CalledProcessError:
        return False
    return True


def test_runs_left_with_the_old_finalizer_lose_it_and_delete(
    tracker_operator: Operator, tracked_namespace: str
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    tracker_operator.kill()
    create_old_run(tracker_operator, ns, "old-live")
    create_old_run(tracker_operator, ns, "old-deleted")
    plane.kubectl("delete", "wfr", "old-deleted", "-n", ns, "--wait=false")
    held = get_run(plane, ns, "old-deleted")["metadata"]
    assert held["deletionTimestamp"]
    assert held["finalizers"] == [OLD_FINALIZER]  # nobody releases it while no operator runs

    tracker_operator.start()
    # The killed replica's peering record blocks the new one for its lifetime (20 s).
    wait_until(lambda: not exists(tracker_operator, ns, "old-deleted"), timeout=90, what="old-deleted to be gone")
    wait_until(
        lambda: not get_run(plane, ns, "old-live")["metadata"].get("finalizers"),
        timeout=30,
        what="the old finalizer to leave old-live",
    )
    assert wait_for_state(plane, ns, "old-live", "Running", 30, tracker_operator)["id"]
    plane.kubectl("delete", "wfr", "old-live", "-n", ns, "--timeout=30s")
    assert not exists(tracker_operator, ns, "old-live")

    create_run(plane, ns, "new-run", heartbeatTimeoutSeconds=600)
    report(plane, ns, "new-run", {"phase": "Running", "lastHeartbeatTime": now()})
    wait_for_state(plane, ns, "new-run", "Running", 20, tracker_operator)
    assert "finalizers" not in get_run(plane, ns, "new-run")["metadata"]
