"""Why a worker pod cannot start, from its status as the kubelet reports it (pure logic)."""

from __future__ import annotations

from typing import Any

import pytest

from tracker.domain.workerpods import StartProblem, start_problem


def pod(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "tracker-delete-outputs-1a2b3c4d-x7k2p"}, "status": status}


def waiting(reason: str, message: str | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"reason": reason}
    if message is not None:
        state["message"] = message
    return {"name": "worker", "state": {"waiting": state}}


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("CreateContainerConfigError", 'secrets "tracker-s3-credentials" not found'),
        ("CreateContainerConfigError", 'configmaps "tracker-config" not found'),
        ("ImagePullBackOff", 'Back-off pulling image "registry.example/workflow-tracker:9.9"'),
        ("ErrImagePull", "rpc error: code = NotFound desc = manifest unknown"),
        ("CrashLoopBackOff", "back-off 10s restarting failed container=worker"),
    ],
)
def test_a_container_waiting_for_a_reason_that_will_not_pass_is_named(reason: str, message: str) -> None:
    problem = start_problem(pod(phase="Pending", containerStatuses=[waiting(reason, message)]))
    assert problem == StartProblem(
        reason, f"worker pod tracker-delete-outputs-1a2b3c4d-x7k2p (container worker) cannot start: {message}"
    )


def test_an_init_container_counts_too() -> None:
    problem = start_problem(
        pod(
            phase="Pending",
            initContainerStatuses=[waiting("ErrImagePull")],
            containerStatuses=[waiting("PodInitializing")],
        )
    )
    assert problem is not None
    assert problem.reason == "ErrImagePull"
    assert problem.message.endswith("no message")


def test_an_unschedulable_pod_says_why() -> None:
    problem = start_problem(
        pod(
            phase="Pending",
            conditions=[
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 Insufficient memory.",
                }
            ],
        )
    )
    assert problem == StartProblem(
        "Unschedulable",
        "worker pod tracker-delete-outputs-1a2b3c4d-x7k2p cannot be "
        "scheduled: 0/1 nodes are available: 1 Insufficient memory.",
    )


def test_a_pod_the_node_refused_names_the_nodes_reason() -> None:
    problem = start_problem(pod(phase="Failed", reason="UnsupportedImage", message="not the project image"))
    assert problem is not None
    assert problem.reason == "UnsupportedImage"
    assert problem.message.endswith("failed: not the project image")


@pytest.mark.parametrize(
    "status",
    [
        {},
        {"phase": "Pending", "containerStatuses": [waiting("ContainerCreating")]},
        {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]},
        {"phase": "Running", "containerStatuses": [{"name": "worker", "state": {"running": {"startedAt": "x"}}}]},
        {"phase": "Failed", "containerStatuses": [{"name": "worker", "state": {"terminated": {"exitCode": 1}}}]},
    ],
)
def test_a_pod_on_its_way_or_running_is_no_problem(status: dict[str, Any]) -> None:
    assert start_problem(pod(**status)) is None
