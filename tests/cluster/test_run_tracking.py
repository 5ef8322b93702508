"""Run tracking on the real control plane: heartbeats, Disconnected, Stalled, indexing."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from localcluster.controlplane import ControlPlane
from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import Operator
from tracker.domain.cost import annual_storage_cost, human_size

pytestmark = pytest.mark.cluster


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_run(plane: ControlPlane, namespace: str, name: str, **spec: Any) -> None:
    manifest = {
        "apiVersion": "tracker.dev/v1alpha1", "kind": "WorkflowRun",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"runName": name, "owner": "alice", "cluster": "hpc-a", "engine": "nextflow", **spec},
    }
    plane.kubectl("apply", "-f", "-", input=json.dumps(manifest))


def report(plane: ControlPlane, namespace: str, name: str, status: dict[str, Any]) -> None:
    plane.kubectl("patch", "wfr", name, "-n", namespace, "--subresource=status", "--type=merge",
                  "-p", json.dumps({"status": status}))


def get_run(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    return json.loads(plane.kubectl("get", "wfr", name, "-n", namespace, "-o", "json").stdout)


def status_of(plane: ControlPlane, namespace: str, name: str) -> dict[str, Any]:
    return get_run(plane, namespace, name).get("status") or {}


def condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), None)


def wait_for_state(plane: ControlPlane, namespace: str, name: str, state: str, timeout: float,
                   operator: Operator) -> dict[str, Any]:
    try:
        return wait_until(lambda: (s := status_of(plane, namespace, name)).get("state") == state and s,
                          timeout=timeout, what=f"run {name} to be {state}")
    except TimeoutError:
        print(operator.log_tail())
        raise


def events_for(plane: ControlPlane, namespace: str, name: str) -> list[dict[str, Any]]:
    events = json.loads(plane.kubectl("get", "events", "-n", namespace, "-o", "json",
                                      f"--field-selector=involvedObject.name={name}").stdout)["items"]
    return events


def test_missing_heartbeats_disconnect_the_run_and_the_next_heartbeat_reconnects_it(
    tracker_operator: Operator, tracked_namespace: str,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    create_run(plane, ns, "hb-run", heartbeatTimeoutSeconds=4)
    report(plane, ns, "hb-run", {"phase": "Running", "lastHeartbeatTime": now()})
    status = wait_for_state(plane, ns, "hb-run", "Running", 20, tracker_operator)
    assert status["id"]
    last_beat = datetime.fromisoformat(status["lastHeartbeatTime"].replace("Z", "+00:00"))

    status = wait_for_state(plane, ns, "hb-run", "Disconnected", 30, tracker_operator)
    detected = datetime.now(UTC)
    disconnected = condition(status, "Disconnected")
    assert disconnected and disconnected["status"] == "True" and disconnected["reason"] == "HeartbeatMissing"
    # Heartbeat times have whole seconds: the threshold passes within [4, 5) s of the beat.
    assert (detected - last_beat).total_seconds() < 4 + 1 + 5, "not flagged within seconds of the threshold"
    wait_until(lambda: any(e["reason"] == "Disconnected" and e["type"] == "Warning"
                           for e in events_for(plane, ns, "hb-run")), timeout=15, what="a Disconnected Event")
    row = plane.kubectl("get", "wfr", "hb-run", "-n", ns, "--no-headers").stdout
    assert "Disconnected" in row

    report(plane, ns, "hb-run", {"lastHeartbeatTime": now()})
    status = wait_for_state(plane, ns, "hb-run", "Running", 15, tracker_operator)
    recovered = condition(status, "Disconnected")
    assert recovered and recovered["status"] == "False" and recovered["reason"] == "HeartbeatReceived"
    wait_until(lambda: any(e["reason"] == "DisconnectedCleared" for e in events_for(plane, ns, "hb-run")),
               timeout=15, what="a DisconnectedCleared Event")


def test_all_tasks_terminal_without_completion_is_stalled(tracker_operator: Operator, tracked_namespace: str) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    create_run(plane, ns, "stall-run", heartbeatTimeoutSeconds=600, stalledAfterSeconds=3)
    report(plane, ns, "stall-run", {"phase": "Running", "lastHeartbeatTime": now(),
                                    "processes": [{"name": "ALIGN", "running": 1, "succeeded": 2}]})
    status = wait_for_state(plane, ns, "stall-run", "Running", 20, tracker_operator)
    assert "tasksTerminalSince" not in status

    report(plane, ns, "stall-run", {"lastHeartbeatTime": now(),
                                    "processes": [{"name": "ALIGN", "running": 0, "succeeded": 3}]})
    status = wait_for_state(plane, ns, "stall-run", "Stalled", 30, tracker_operator)
    stalled = condition(status, "Stalled")
    assert stalled and stalled["reason"] == "AllTasksTerminal"
    since = datetime.fromisoformat(status["tasksTerminalSince"].replace("Z", "+00:00"))
    assert (datetime.fromisoformat(stalled["lastTransitionTime"].replace("Z", "+00:00")) - since).total_seconds() >= 3
    wait_until(lambda: any(e["reason"] == "Stalled" for e in events_for(plane, ns, "stall-run")),
               timeout=15, what="a Stalled Event")

    report(plane, ns, "stall-run", {"phase": "Succeeded", "completedAt": now()})
    status = wait_for_state(plane, ns, "stall-run", "Succeeded", 20, tracker_operator)
    assert condition(status, "Stalled")["status"] == "False"  # type: ignore[index]


def test_succeeded_run_gets_its_outputs_indexed(
    tracker_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    client = s3_server.client()
    sizes = {f"runs/run-1/sample {i}/reads%{i}.bam": 1000 + i for i in range(1500)}
    sizes["runs/run-1/"] = 0  # a "folder" object
    put_objects(client, s3_bucket, sizes.items())
    put_objects(client, s3_bucket, [("runs/run-10/other.bam", 5000), ("runs/run-1.txt", 7)])
    create_run(plane, ns, "run-1", outputDir=f"s3://{s3_bucket}/runs/run-1/")
    report(plane, ns, "run-1", {"phase": "Running", "lastHeartbeatTime": now()})
    report(plane, ns, "run-1", {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})

    def indexed() -> dict[str, Any] | None:
        status = status_of(plane, ns, "run-1")
        return status if (status.get("outputs") or {}).get("indexedAt") else None

    try:
        status = wait_until(indexed, timeout=120, what="the outputs of run-1 to be indexed")
    except TimeoutError:
        print(tracker_operator.log_tail())
        print(plane.kubectl("get", "olj,jobs,pods", "-n", ns, "-o", "wide").stdout)
        raise
    expected_bytes = sum(sizes.values())
    cost = annual_storage_cost(expected_bytes)
    assert status["outputs"]["count"] == len(sizes)
    assert status["outputs"]["bytes"] == expected_bytes
    assert status["outputs"]["annualCostLow"] == pytest.approx(cost.annual_low, abs=1e-4)
    assert status["outputs"]["annualCostHigh"] == pytest.approx(cost.annual_high, abs=1e-4)
    assert status["outputs"]["size"] == human_size(expected_bytes)
    assert condition(status, "OutputsIndexed")["status"] == "True"  # type: ignore[index]

    jobs = json.loads(plane.kubectl("get", "olj", "-n", ns, "-o", "json").stdout)["items"]
    assert [j["spec"]["operation"] for j in jobs] == ["index_outputs"]
    job_status = jobs[0]["status"]
    assert job_status["phase"] == "Succeeded" and job_status["objectsIndexed"] == len(sizes)
    assert job_status["runId"] == status["id"]
    assert job_status["kubernetesJob"].startswith("tracker-index-outputs-")
    owner = json.loads(plane.kubectl("get", "job", job_status["kubernetesJob"], "-n", ns, "-o", "json").stdout)
    assert owner["metadata"]["ownerReferences"][0]["uid"] == jobs[0]["metadata"]["uid"]
