"""Pod status as the kubelet reports it, built as plain dicts from container states.

Pure logic: `ContainerState` records what happened to one container; the builders
turn a pod's container states into the `status` body the node agent patches
(phase, IPs, conditions, init/container statuses). Times are RFC 3339 strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

NODE_IP = "127.0.0.1"
TERMINAL_PHASES = ("Succeeded", "Failed")
_CONDITION_ORDER = {
    kind: i
    for i, kind in enumerate(("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"))
}


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Termination:
    """How one run of a container ended."""

    exit_code: int
    reason: str
    started_at: str
    finished_at: str
    message: str = ""
    pid: int | None = None

    def as_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
        }
        if self.message:
            state["message"] = self.message
        if self.pid is not None:
            state["containerID"] = f"local://{self.pid}"
        return {"terminated": state}


@dataclass
class ContainerState:
    """One container as the node agent tracks it across restarts."""

    name: str
    image: str
    restart_count: int = 0
    running_since: str | None = None
    pid: int | None = None
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    terminated: Termination | None = None
    last_terminated: Termination | None = None
    done: bool = False
    ever_started: bool = False

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def succeeded(self) -> bool:
        return self.done and self.terminated is not None and self.terminated.exit_code == 0


def exit_reason(exit_code: int) -> str:
    return "Completed" if exit_code == 0 else "Error"


def exit_code_of(returncode: int) -> int:
    """A Popen return code as a container exit code (killed by signal N -> 128 + N)."""
    return 128 - returncode if returncode < 0 else returncode


def container_status(state: ContainerState, *, init: bool) -> dict[str, Any]:
    """One entry of `containerStatuses` / `initContainerStatuses`."""
    status: dict[str, Any] = {
        "name": state.name,
        "image": state.image,
        "imageID": f"local://{state.image}",
        "ready": state.running and not init,
        "started": state.running,
        "restartCount": state.restart_count,
        "state": _state_dict(state),
        "lastState": state.last_terminated.as_state() if state.last_terminated else {},
    }
    if state.pid is not None:
        status["containerID"] = f"local://{state.pid}"
    return status


def _state_dict(state: ContainerState) -> dict[str, Any]:
    if state.running_since is not None:
        return {"running": {"startedAt": state.running_since}}
    if state.terminated is not None:
        return state.terminated.as_state()
    waiting: dict[str, Any] = {"reason": state.waiting_reason}
    if state.waiting_message:
        waiting["message"] = state.waiting_message
    return {"waiting": waiting}


def pod_phase(init: Sequence[ContainerState], main: Sequence[ContainerState]) -> str:
    """Pending, Running, Succeeded or Failed, from where each container stands."""
    if any(s.done and not s.succeeded for s in init):
        return "Failed"
    if main and all(s.done for s in main):
        return "Succeeded" if all(s.succeeded for s in main) else "Failed"
    if all(s.succeeded for s in init) and any(s.ever_started for s in main):
        return "Running"
    return "Pending"


def should_restart(restart_policy: str, exit_code: int, *, init: bool) -> bool:
    """Whether the kubelet would run this container again after it exited."""
    if init:
        return exit_code != 0 and restart_policy != "Never"
    return restart_policy == "Always" or (restart_policy == "OnFailure" and exit_code != 0)


def restart_delay(restart_count: int) -> float:
    """Seconds to wait before restart number `restart_count + 1` (doubling, capped)."""
    return min(0.5 * 2.0**restart_count, 10.0)


def pod_conditions(
    pod: Mapping[str, Any],
    init: Sequence[ContainerState],
    main: Sequence[ContainerState],
    phase: str,
    now: str,
) -> list[dict[str, Any]]:
    """The pod's conditions: ours recomputed, everyone else's (PodScheduled, ...) kept."""
    initialized = all(s.succeeded for s in init)
    unready = [s.name for s in main if not s.running]
    containers_ready = not unready and phase == "Running"
    ready_reason = "PodCompleted" if phase == "Succeeded" else "ContainersNotReady"
    unready_message = f"containers with unready status: [{' '.join(unready)}]"
    ours = {
        "PodReadyToStartContainers": ("True", None, None),
        "Initialized": ("True", None, None)
        if initialized
        else (
            "False",
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(s.name for s in init if not s.succeeded)}]",
        ),
        "ContainersReady": (("True", None, None) if containers_ready else ("False", ready_reason, unready_message)),
        "Ready": _ready(pod, containers_ready, ready_reason, unready_message),
    }
    return merge_conditions((pod.get("status") or {}).get("conditions") or [], ours, now)


def _ready(
    pod: Mapping[str, Any], containers_ready: bool, reason: str, message: str
) -> tuple[str, str | None, str | None]:
    if not containers_ready:
        return ("False", reason, message)
    gates = [g["conditionType"] for g in (pod.get("spec") or {}).get("readinessGates") or []]
    current = {c["type"]: c.get("status") for c in (pod.get("status") or {}).get("conditions") or []}
    missing = [gate for gate in gates if current.get(gate) != "True"]
    if missing:
        message = f'corresponding condition of pod readiness gate "{missing[0]}" does not exist.'
        return ("False", "ReadinessGatesNotReady", message)
    return ("True", None, None)


def merge_conditions(
    existing: Iterable[Mapping[str, Any]],
    ours: Mapping[str, tuple[str, str | None, str | None]],
    now: str,
) -> list[dict[str, Any]]:
    """`existing` with our condition types set; lastTransitionTime moves only on change."""
    by_type = {c["type"]: dict(c) for c in existing}
    for kind, (status, reason, message) in ours.items():
        previous = by_type.get(kind, {})
        condition: dict[str, Any] = {"type": kind, "status": status, "lastProbeTime": None}
        condition["lastTransitionTime"] = (
            previous.get("lastTransitionTime") if previous.get("status") == status else None
        ) or now
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        by_type[kind] = condition
    return sorted(by_type.values(), key=lambda c: _CONDITION_ORDER.get(c["type"], len(_CONDITION_ORDER)))


@dataclass
class PodReport:
    """Everything the node agent knows about one pod, to render as its status."""

    init: list[ContainerState] = field(default_factory=list)
    main: list[ContainerState] = field(default_factory=list)
    start_time: str | None = None
    phase: str | None = None  # overrides the computed phase (rejection, deadline, deletion)
    reason: str | None = None
    message: str | None = None


def pod_status(pod: Mapping[str, Any], report: PodReport, now: str) -> dict[str, Any]:
    """The `status` body for a merge patch of pods/status."""
    phase = report.phase or pod_phase(report.init, report.main)
    status: dict[str, Any] = {
        "phase": phase,
        "reason": report.reason,
        "message": report.message,
        "hostIP": NODE_IP,
        "hostIPs": [{"ip": NODE_IP}],
        "podIP": NODE_IP,
        "podIPs": [{"ip": NODE_IP}],
        "startTime": report.start_time,
        "conditions": pod_conditions(pod, report.init, report.main, phase, now),
        "containerStatuses": [container_status(s, init=False) for s in report.main],
    }
    if report.init:
        status["initContainerStatuses"] = [container_status(s, init=True) for s in report.init]
    generation = (pod.get("metadata") or {}).get("generation")
    if generation is not None:
        status["observedGeneration"] = generation
    return status


def initial_states(pod: Mapping[str, Any]) -> tuple[list[ContainerState], list[ContainerState]]:
    """Fresh states for the pod's init containers and containers."""
    spec = pod.get("spec") or {}
    init = [
        ContainerState(c["name"], c.get("image", ""), waiting_reason="PodInitializing")
        for c in spec.get("initContainers") or []
    ]
    reason = "PodInitializing" if init else "ContainerCreating"
    main = [ContainerState(c["name"], c.get("image", ""), waiting_reason=reason) for c in spec.get("containers") or []]
    return init, main


def is_terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def rejected_report(pod: Mapping[str, Any], reason: str, message: str) -> PodReport:
    """A pod the node refuses: Failed, its containers never created."""
    init, main = initial_states(pod)
    for state in [*init, *main]:
        state.waiting_reason, state.waiting_message = reason, message
    return PodReport(init=init, main=main, phase="Failed", reason=reason, message=message)


def pull_failure_report(
    pod: Mapping[str, Any], images: Mapping[str, str], messages: Mapping[str, str], *, back_off: bool, start_time: str
) -> PodReport:
    """A pod whose images in `images` (container -> image) cannot be pulled: Pending, those
    containers waiting with ErrImagePull (`messages`) or, once backing off, ImagePullBackOff."""
    init, main = initial_states(pod)
    for state in [*init, *main]:
        if state.name in images:
            if back_off:
                state.waiting_reason = "ImagePullBackOff"
                state.waiting_message = f'Back-off pulling image "{images[state.name]}": {messages[state.name]}'
            else:
                state.waiting_reason, state.waiting_message = "ErrImagePull", messages[state.name]
    return PodReport(init=init, main=main, start_time=start_time)


def grace_period(pod: Mapping[str, Any]) -> float:
    """spec.terminationGracePeriodSeconds (default 30)."""
    seconds = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    return float(30 if seconds is None else seconds)


def deadline_passed(pod: Mapping[str, Any], start_time: str | None, now: datetime) -> bool:
    """Whether the pod has been active longer than spec.activeDeadlineSeconds."""
    deadline = (pod.get("spec") or {}).get("activeDeadlineSeconds")
    if deadline is None or start_time is None:
        return False
    started = datetime.strptime(start_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    limit: float = deadline
    return (now - started).total_seconds() >= limit
