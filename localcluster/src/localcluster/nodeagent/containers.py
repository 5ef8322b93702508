"""One container of a pod on this node: start, watch, restart with backoff, stop.

A `ContainerRunner` owns the container's `ContainerState` (what the status shows)
and its current process. The pod worker calls `step()` on every tick: it starts the
container when it is due, notices when the process exits, and decides, per the pod's
restartPolicy, whether the container is done or restarts after a backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcluster.nodeagent import layout
from localcluster.nodeagent.env import ContainerConfigError
from localcluster.nodeagent.podstatus import (
    ContainerState,
    Termination,
    exit_code_of,
    exit_reason,
    now_rfc3339,
    restart_delay,
    should_restart,
)
from localcluster.nodeagent.process import ContainerProcess, log_tail

CONFIG_RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class Launch:
    """How to run the container this time: argv, environment, working directory."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path


class ContainerRunner:
    """Runs one container of a pod, restarting it as the restartPolicy says."""

    def __init__(
        self,
        spec: Mapping[str, Any],
        state: ContainerState,
        *,
        init: bool,
        restart_policy: str,
        directory: Path,
    ) -> None:
        self.spec = spec
        self.state = state
        self.init = init
        self.restart_policy = restart_policy
        self.log = layout.log_path(directory, state.name)
        self.pid_file = layout.pid_path(directory, state.name)
        self.process: ContainerProcess | None = None
        self._next_start = 0.0

    def step(self, prepare: Callable[[Mapping[str, Any]], Launch]) -> None:
        """Start the container if it is due, or collect its exit if it has ended."""
        if self.process is not None:
            code = self.process.poll()
            if code is not None:
                self._exited(exit_code_of(code))
        elif not self.state.done and time.monotonic() >= self._next_start:
            self._start(prepare)

    def terminate(self) -> None:
        """Ask the container to stop (SIGTERM); `stop()` finishes the job."""
        if self.process is not None:
            self.process.terminate()

    def stop(self, grace: float) -> None:
        """Kill the container (if running) and mark it done: it will not restart."""
        if self.process is not None:
            self._exited(exit_code_of(self.process.stop(grace)), final=True)
        elif not self.state.done and self.state.last_terminated is not None:
            self.state.terminated = self.state.last_terminated  # stopped while backing off
            self.state.done = True

    def _start(self, prepare: Callable[[Mapping[str, Any]], Launch]) -> None:
        try:
            launch = prepare(self.spec)
        except ContainerConfigError as error:
            self.state.waiting_reason = "CreateContainerConfigError"
            self.state.waiting_message = str(error)
            self._next_start = time.monotonic() + CONFIG_RETRY_SECONDS
            return
        started = now_rfc3339()
        if self.state.ever_started:
            self.state.restart_count += 1
        self.state.ever_started = True
        try:
            self.process = ContainerProcess.start(launch.argv, launch.env, launch.cwd, self.log, self.pid_file)
        except OSError as error:
            self._start_failed(launch.argv[0], error, started)
            return
        self.state.running_since = started
        self.state.pid = self.process.pid
        self.state.terminated = None
        self.state.waiting_message = ""

    def _start_failed(self, executable: str, error: OSError, started: str) -> None:
        message = f'failed to start container "{self.state.name}": exec: "{executable}": {error.strerror}'
        with self.log.open("a", encoding="utf-8") as log:
            log.write(message + "\n")
        self._finish(Termination(128, "StartError", started, now_rfc3339(), message))

    def _exited(self, exit_code: int, *, final: bool = False) -> None:
        message = log_tail(self.log) if exit_code != 0 else ""
        started = self.state.running_since or now_rfc3339()
        termination = Termination(
            exit_code, exit_reason(exit_code), started, now_rfc3339(), message, pid=self.state.pid
        )
        self.process = None
        self._finish(termination, final=final)

    def _finish(self, termination: Termination, *, final: bool = False) -> None:
        self.state.running_since = None
        self.state.pid = None
        if not final and should_restart(self.restart_policy, termination.exit_code, init=self.init):
            delay = restart_delay(self.state.restart_count)
            self.state.last_terminated = termination
            self.state.terminated = None
            self.state.waiting_reason = "CrashLoopBackOff"
            self.state.waiting_message = f"back-off {delay:g}s restarting failed container={self.state.name}"
            self._next_start = time.monotonic() + delay
        else:
            self.state.terminated = termination
            self.state.done = True
