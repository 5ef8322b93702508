"""Child processes for the local cluster: free ports, deadlines, clean teardown.

Every server the local cluster starts (etcd, the Kubernetes components, the node
agent, the S3 server, PostgreSQL) goes through `ManagedProcess`, so each one logs to
a file, can be waited on with a deadline, and is stopped with its whole process group.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


class DeadlineExceeded(TimeoutError):
    """A condition did not hold before its deadline."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
) -> T:
    """Poll `condition` until it returns a truthy value, or raise after `timeout` s.

    Exceptions raised by the condition count as "not yet"; the last one is chained to
    the `DeadlineExceeded` so a failure explains itself.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except Exception as error:
            last_error = error
        if time.monotonic() >= deadline:
            raise DeadlineExceeded(f"timed out after {timeout:g}s waiting for {what}") from last_error
        time.sleep(interval)


def _die_with_parent() -> None:
    """Run in the child before exec: SIGKILL it if the parent dies first."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class ManagedProcess:
    """One long-running child process, logging to `log_path`.

    `tied_to_parent` kills the child if this Python process dies (the test fixtures);
    leave it off for daemons that must outlive the command that started them
    (`localcluster up`).
    """

    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    tied_to_parent: bool = True
    user: str | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self.popen = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(self.env) if self.env is not None else None,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.tied_to_parent else None,
                user=self.user,
            )
        finally:
            log.close()
        return self

    def start_until(self, ready: Callable[[], object], *, timeout: float, what: str) -> ManagedProcess:
        """Start, then wait until `ready()` holds; raise (with the log's tail) if the
        process exits first or the deadline passes. The caller stops it on failure."""
        self.start()
        wait_until(lambda: not self.running() or ready(), timeout=timeout, what=what)
        self.check_running()
        return self

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} was never started")
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def check_running(self) -> None:
        """Raise with the tail of the log if the process has exited."""
        if self.popen is not None and self.popen.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self.popen.returncode}; last log lines:\n" + self.log_tail()
            )

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after `grace` s."""
        if self.popen is None:
            return
        stop_process_group(self.popen.pid, grace=grace)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=grace)


def stop_process_group(pid: int, *, grace: float = 10.0) -> None:
    """Terminate the process group led by `pid`, killing it after `grace` seconds."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        # Reap it if it is our own child, so the group can disappear.
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
