"""Runs one pod on this node, from admission to its final status or deletion.

A `PodWorker` is a thread per pod. It refuses pods it cannot run, obtains the pod's
service-account credentials, runs init containers in order and then the containers in
parallel, patches pods/status whenever what it would report changes, and reacts to
the pod's deletion (SIGTERM, SIGKILL after the grace period, final delete),
activeDeadlineSeconds, and the agent stopping. Once the final status is reported, the
pod's working directory and token go (its logs stay until the pod is deleted). The same thread starts and reaps every
process of the pod, so PR_SET_PDEATHSIG ties them to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localcluster.nodeagent import layout
from localcluster.nodeagent.containers import ContainerRunner, Launch
from localcluster.nodeagent.credentials import PodCredentials, wants_service_account_token
from localcluster.nodeagent.env import container_argv, container_env, process_environment
from localcluster.nodeagent.images import admission_rejection, pull_error, unpullable_images
from localcluster.nodeagent.kube import Kube, describe_error
from localcluster.nodeagent.lookups import env_sources
from localcluster.nodeagent.podstatus import (
    PodReport,
    deadline_passed,
    grace_period,
    initial_states,
    now_rfc3339,
    pull_failure_report,
    rejected_report,
)
from localcluster.nodeagent.recovery import restart_lost, restore_states, was_started
from localcluster.nodeagent.reporter import StatusReporter, final_delete

log = logging.getLogger(__name__)

TICK_SECONDS = 0.2
RETRY_SECONDS = 2.0
PULL_BACK_OFF_SECONDS = 2.0  # ErrImagePull shows this long before ImagePullBackOff
SHUTDOWN_GRACE_SECONDS = 3.0
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


@dataclass(frozen=True)
class WorkerContext:
    """What every pod worker shares: the API, the state dir, the project image and env."""

    kube: Kube
    state_dir: Path
    project_image: str
    inherited_env: Mapping[str, str]
    on_exit: Callable[[PodWorker], None]


class _Interrupt(Exception):
    """The pod's run ends early: deleted, deadline, gone from the API, or agent stopping."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class PodWorker:
    """The thread that runs one pod."""

    def __init__(self, context: WorkerContext, pod: Mapping[str, Any]) -> None:
        metadata = pod["metadata"]
        self.uid: str = metadata["uid"]
        self.key = f"{metadata['namespace']}/{metadata['name']}"
        self.finalized = False
        self._context = context
        self._pod = pod
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._gone = self._shutdown = self._handling = False
        self._dir = layout.pod_dir(context.state_dir, metadata["namespace"], metadata["name"], self.uid)
        self._reporter = StatusReporter(context.kube, pod)
        self._report = PodReport()
        self._runners: list[ContainerRunner] = []
        self._credentials: PodCredentials | None = None
        self._thread = threading.Thread(target=self._run, name=f"pod:{self.key}", daemon=True)

    # -- called by the agent ---------------------------------------------------------
    def start(self) -> PodWorker:
        self._thread.start()
        return self

    @property
    def pod(self) -> Mapping[str, Any]:
        with self._lock:
            return self._pod

    def update(self, pod: Mapping[str, Any]) -> None:
        with self._lock:
            self._pod = pod
        self._wake.set()

    def gone(self) -> None:
        """The pod no longer exists in the API: kill its processes, report nothing."""
        self._gone = True
        self._wake.set()

    def shutdown(self) -> None:
        """The agent is stopping: kill the pod's processes quickly, report nothing."""
        self._shutdown = True
        self._wake.set()

    @property
    def directory(self) -> Path:
        return self._dir

    @property
    def is_gone(self) -> bool:
        return self._gone

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    # -- the pod's life --------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._lifecycle()
        except _Interrupt as interrupt:
            self._interrupted(interrupt.kind)
        except Exception:
            log.exception("pod %s: unexpected error; stopping its processes", self.key)
        finally:
            self._stop_all(SHUTDOWN_GRACE_SECONDS)
            if self._reporter.last_phase in ("Succeeded", "Failed"):
                layout.release_volumes(self._dir)
            self._context.on_exit(self)

    def _lifecycle(self) -> None:
        pod = self.pod
        rejection = admission_rejection(pod, self._context.project_image)
        if rejection is not None:
            log.info("pod %s: rejected: %s", self.key, rejection.message)
            self._report = rejected_report(pod, rejection.reason, rejection.message)
            self._publish_until_accepted()
            return
        unpullable = unpullable_images(pod, self._context.project_image)
        if unpullable:
            self._cannot_pull(pod, unpullable)
            return
        self._setup(pod)
        self._check()
        self._publish()
        self._prepare_credentials(pod)
        if self._run_init_containers():
            self._run_containers()
        self._publish_until_accepted()
        log.info("pod %s: %s", self.key, self._reporter.last_phase)

    def _cannot_pull(self, pod: Mapping[str, Any], images: dict[str, str]) -> None:
        """As a kubelet with an image it cannot pull: Pending, ErrImagePull then
        ImagePullBackOff, until the pod is deleted or its deadline passes."""
        log.info("pod %s: cannot pull %s", self.key, ", ".join(sorted(set(images.values()))))
        messages = {name: pull_error(image, self._context.project_image) for name, image in images.items()}
        start = (pod.get("status") or {}).get("startTime") or now_rfc3339()
        self._report = pull_failure_report(pod, images, messages, back_off=False, start_time=start)
        self._publish_until_accepted()
        self._wait(PULL_BACK_OFF_SECONDS)
        self._report = pull_failure_report(pod, images, messages, back_off=True, start_time=start)
        self._publish_until_accepted()
        while True:
            self._wait(RETRY_SECONDS)  # ends with the pod's deletion or deadline (_Interrupt)

    def _setup(self, pod: Mapping[str, Any]) -> None:
        spec = pod["spec"]
        policy = spec.get("restartPolicy") or "Always"
        init, main = initial_states(pod)
        if was_started(pod):
            log.info("pod %s: was running before the agent restarted; its processes are gone", self.key)
            restore_states(pod, init, main, now_rfc3339())
            if policy != "Never":
                restart_lost([*init, *main])
        self._report = PodReport(
            init=init, main=main, start_time=(pod.get("status") or {}).get("startTime") or now_rfc3339()
        )
        layout.work_dir(self._dir).mkdir(parents=True, exist_ok=True)
        for containers, states, init_kind in (
            (spec.get("initContainers") or [], init, True),
            (spec["containers"], main, False),
        ):
            self._runners += [
                ContainerRunner(container, state, init=init_kind, restart_policy=policy, directory=self._dir)
                for container, state in zip(containers, states, strict=True)
            ]

    def _prepare_credentials(self, pod: Mapping[str, Any]) -> None:
        if not wants_service_account_token(pod):
            return
        self._credentials = PodCredentials(self._context.kube, pod, layout.kubeconfig_path(self._dir))
        while True:
            try:
                self._credentials.ensure()
                break
            except Exception as error:
                self._set_waiting_message(f"service account token: {describe_error(error)}")
                log.warning("pod %s: cannot get a service account token: %s", self.key, describe_error(error))
                self._publish()
                self._wait(RETRY_SECONDS)
        self._set_waiting_message("")

    def _run_init_containers(self) -> bool:
        for runner in (r for r in self._runners if r.init):
            while not runner.state.done:
                self._tick([runner])
            if not runner.state.succeeded:
                return False
        for runner in self._runners:
            if runner.state.waiting_reason == "PodInitializing":
                runner.state.waiting_reason = "ContainerCreating"
        return True

    def _run_containers(self) -> None:
        main = [r for r in self._runners if not r.init]
        while not all(r.state.done for r in main):
            self._tick(main)

    def _tick(self, runners: list[ContainerRunner]) -> None:
        for runner in runners:
            runner.step(self._launch)
        self._publish()
        if not all(r.state.done for r in runners):
            self._refresh_credentials()
            self._wait(TICK_SECONDS)

    def _launch(self, container: Mapping[str, Any]) -> Launch:
        """Resolve a container's argv, environment and working directory (at each start)."""
        pod = self.pod
        declared = container_env(pod, container, env_sources(self._context.kube, pod))
        kubeconfig = str(self._credentials.path) if self._credentials else None
        env = process_environment(self._context.inherited_env, pod, declared, kubeconfig)
        return Launch(container_argv(container, declared), env, self._working_dir(container))

    def _working_dir(self, container: Mapping[str, Any]) -> Path:
        """The container's workingDir if it exists on this machine, else the pod's own."""
        wanted = container.get("workingDir")
        if wanted and Path(wanted).is_dir():
            return Path(wanted)
        return layout.work_dir(self._dir)

    # -- interruptions ---------------------------------------------------------------
    def _check(self) -> None:
        if self._shutdown:
            raise _Interrupt("shutdown")
        if self._gone:
            raise _Interrupt("gone")
        if self._handling:
            return
        pod = self.pod
        if pod["metadata"].get("deletionTimestamp"):
            raise _Interrupt("deleted")
        if deadline_passed(pod, self._report.start_time, datetime.now(UTC)):
            raise _Interrupt("deadline")

    def _wait(self, seconds: float) -> None:
        self._check()
        self._wake.wait(seconds)
        self._wake.clear()
        self._check()

    def _interrupted(self, kind: str) -> None:
        if kind in ("shutdown", "gone"):
            log.info(
                "pod %s: %s; killing its processes", self.key, "agent stopping" if kind == "shutdown" else "pod is gone"
            )
            return
        self._handling = True
        try:
            if kind == "deadline":
                self._deadline_exceeded()
            else:
                self._deleted()
        except _Interrupt as again:
            log.info("pod %s: %s while finishing", self.key, again.kind)

    def _deadline_exceeded(self) -> None:
        log.info("pod %s: activeDeadlineSeconds exceeded; killing it", self.key)
        self._stop_all(grace_period(self.pod))
        self._report.phase, self._report.reason = "Failed", "DeadlineExceeded"
        self._report.message = DEADLINE_MESSAGE
        self._publish_until_accepted()

    def _deleted(self) -> None:
        pod = self.pod
        grace = pod["metadata"].get("deletionGracePeriodSeconds")
        log.info("pod %s: deleted; stopping its processes (grace %ss)", self.key, grace)
        self._stop_all(float(grace if grace is not None else grace_period(pod)))
        if any(r.state.ever_started for r in self._runners) and self._report.phase is None:
            succeeded = all(r.state.succeeded for r in self._runners if not r.init)
            self._report.phase = "Succeeded" if succeeded else "Failed"
            self._publish()
        final_delete(self._context.kube, pod)
        self.finalized = True

    def _stop_all(self, grace: float) -> None:
        running = [r for r in self._runners if r.process is not None]
        for runner in running:
            runner.terminate()
        deadline = time.monotonic() + grace
        for runner in self._runners:
            runner.stop(max(0.0, deadline - time.monotonic()))

    # -- status ----------------------------------------------------------------------
    def _publish(self) -> bool:
        try:
            self._reporter.publish(self.pod, self._report)
            return True
        except LookupError:
            raise _Interrupt("gone") from None
        except Exception as error:
            log.warning("pod %s: status update failed: %s", self.key, describe_error(error))
            return False

    def _publish_until_accepted(self) -> None:
        while not self._publish():
            self._wait(RETRY_SECONDS)

    def _set_waiting_message(self, message: str) -> None:
        for runner in self._runners:
            if not runner.state.ever_started:
                runner.state.waiting_message = message

    def _refresh_credentials(self) -> None:
        if self._credentials is None:
            return
        try:
            self._credentials.ensure()
        except Exception as error:
            log.warning("pod %s: token refresh failed: %s", self.key, describe_error(error))
