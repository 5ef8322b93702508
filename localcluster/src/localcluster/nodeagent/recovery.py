"""Pods this node was running before the agent restarted (their processes are gone).

Pure logic. A pod whose status shows containers that already ran has lost them: with
restartPolicy Never it fails (containers `ContainerStatusUnknown`, as the kubelet
reports a container it cannot find); otherwise it runs again, keeping restart counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from localcluster.nodeagent.podstatus import ContainerState, Termination

LOST_REASON = "ContainerStatusUnknown"
LOST_MESSAGE = "The container could not be located when the pod was terminated"


def _statuses(pod: Mapping[str, Any], key: str) -> dict[str, Mapping[str, Any]]:
    return {s["name"]: s for s in (pod.get("status") or {}).get(key) or []}


def _has_run(status: Mapping[str, Any]) -> bool:
    state = status.get("state") or {}
    return "running" in state or "terminated" in state or bool(status.get("lastState"))


def was_started(pod: Mapping[str, Any]) -> bool:
    """Whether some container of `pod` already ran on this node."""
    every = [*_statuses(pod, "initContainerStatuses").values(), *_statuses(pod, "containerStatuses").values()]
    return any(_has_run(status) for status in every)


def lost_container(state: ContainerState, previous: Mapping[str, Any] | None, now: str) -> None:
    """Make `state` show how the container ended before the restart (or that it was lost)."""
    if previous is None:
        return
    prior = previous.get("state") or {}
    state.restart_count = int(previous.get("restartCount") or 0)
    if "terminated" in prior:
        done = prior["terminated"]
        state.terminated = Termination(
            int(done.get("exitCode", 0)),
            done.get("reason", "Error"),
            done.get("startedAt") or now,
            done.get("finishedAt") or now,
            done.get("message", ""),
        )
        state.done = True
    elif "running" in prior:
        started = prior["running"].get("startedAt") or now
        state.terminated = Termination(137, LOST_REASON, started, now, LOST_MESSAGE)
        state.done = True
    state.ever_started = state.done


def restore_states(
    pod: Mapping[str, Any], init: Sequence[ContainerState], main: Sequence[ContainerState], now: str
) -> None:
    """Carry restart counts over and keep init containers that already succeeded.

    Containers that were running count as lost; the pod worker runs any container that
    is not done (and, with restartPolicy Never, reports the pod failed instead).
    """
    before = {**_statuses(pod, "initContainerStatuses"), **_statuses(pod, "containerStatuses")}
    for state in [*init, *main]:
        lost_container(state, before.get(state.name), now)


def restart_lost(states: Sequence[ContainerState]) -> None:
    """For restarting pods: containers that failed or were lost run again."""
    for state in states:
        if state.done and not state.succeeded:
            state.last_terminated = state.terminated
            state.terminated = None
            state.done = False
            state.waiting_reason = "ContainerCreating"
