"""The Nextflow trace receiver writing WorkflowRuns, against the real control plane
and operator: `tracker-api` as a process (TokenReview and SubjectAccessReview, runs
as WorkflowRuns), the recorded Nextflow request sequences replayed over real HTTP
with service-account tokens, as `TOWER_ACCESS_TOKEN=$(kubectl create token ...)`."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fixtures.nextflow_trace import authorization, replay
from fixtures.workflowruns import condition, runner_token, wait_for_state

from localcluster.controlplane import ControlPlane
from localcluster.processes import wait_until
from localcluster.tracker import Operator

pytestmark = pytest.mark.cluster


def runs_in(plane: ControlPlane, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(plane.kubectl("get", "wfr", "-n", namespace, "-o", "json").stdout)["items"]
    return items


def test_a_reported_run_is_a_workflow_run_owned_by_the_token(
    tower_receiver: str, tracker_operator: Operator, tracked_namespace: str
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    token = runner_token(plane, ns, "alice", may_create=True)
    with httpx.Client(base_url=tower_receiver, timeout=30) as http:
        replay(http, "succeeded", token, live=True)
        [run] = runs_in(plane, ns)
        name, spec = run["metadata"]["name"], run["spec"]
        assert name.startswith("sad-einstein-")
        assert len(name) == len("sad-einstein-") + 8
        assert (spec["runName"], spec["owner"]) == ("sad_einstein", f"system:serviceaccount:{ns}:alice")
        assert (spec["engine"], spec["outputDir"], spec["workflow"]["revision"]) == (
            "nextflow",
            "s3://lab-results/rnaseq/",
            "3.14.0",
        )
        status = wait_for_state(plane, ns, name, "Succeeded", 30, tracker_operator)
        assert status["id"] == run["metadata"]["uid"]
        assert status["peakConcurrency"] == 3
        trim = next(p for p in status["processes"] if p["name"].endswith("TRIMGALORE"))
        assert (trim["succeeded"], trim["failed"], trim["retried"]) == (2, 0, 1)
        assert "Succeeded" in plane.kubectl("get", "wfr", name, "-n", ns, "--no-headers").stdout
        auth = {"Authorization": f"Bearer {token}"}
        detail = wait_until(
            lambda: (
                (r := http.get(f"/api/v1/runs/{status['id']}", headers=auth)).status_code == 200
                and r.json()["phase"] == "Succeeded"
                and r.json()
            ),
            timeout=30,
            what="the run indexed",
        )
        assert detail["owner"] == f"system:serviceaccount:{ns}:alice"
        page = http.get(f"/api/v1/runs/{status['id']}/tasks", params={"status": "RETRIED"}, headers=auth).json()
        assert [(t["taskId"], t["exitCode"]) for t in page["items"]] == [(3, 137)]


def test_a_silent_runner_is_disconnected_then_comes_back(
    tower_receiver: str, tracker_operator: Operator, tracked_namespace: str
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    token = runner_token(plane, ns, "alice", may_create=True)

    def silence(_workflow_id: str) -> None:
        [run] = runs_in(plane, ns)
        name = run["metadata"]["name"]
        plane.kubectl("patch", "wfr", name, "-n", ns, "--type=merge", "-p", '{"spec": {"heartbeatTimeoutSeconds": 3}}')
        status = wait_for_state(plane, ns, name, "Disconnected", 30, tracker_operator)
        assert condition(status, "Disconnected")["reason"] == "HeartbeatMissing"  # type: ignore[index]

    with httpx.Client(base_url=tower_receiver, timeout=30) as http:
        replay(http, "silent", token, on_silence=silence, live=True)
    [run] = runs_in(plane, ns)
    status = wait_for_state(plane, ns, run["metadata"]["name"], "Succeeded", 30, tracker_operator)
    assert condition(status, "Disconnected")["status"] == "False"  # type: ignore[index]


def test_a_token_without_rights_in_its_namespace_is_refused(
    tower_receiver: str, tracker_operator: Operator, tracked_namespace: str
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    token = runner_token(plane, ns, "mallory", may_create=False)
    body = {"sessionId": "s-1", "runName": "sneaky", "workflowId": None, "instant": 1}
    answer = httpx.post(
        tower_receiver + "/tower/trace/create", json=body, headers={"Authorization": authorization(token, "bearer")}
    )
    assert answer.status_code == 403
    assert "may not create WorkflowRuns" in answer.json()["detail"]
    answer = httpx.post(
        tower_receiver + "/tower/trace/create",
        json=body,
        headers={"Authorization": authorization(token[:-4] + "AAAA", "basic")},
    )
    assert answer.status_code == 401
    assert runs_in(plane, ns) == []
