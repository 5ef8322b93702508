"""One container run as a local process: its own session, log file, pid file.

The process leads a new session (so its whole group can be signalled), gets SIGKILL
if the thread that started it dies (PR_SET_PDEATHSIG, armed before exec), and writes
stdout and stderr to the container's log. Stopping is SIGTERM to the group, SIGKILL
after the grace period, and a final SIGKILL for anything the process left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1
# Resolved once in the parent: the child must not dlopen between fork and exec.
_prctl = ctypes.CDLL(None, use_errno=True).prctl
_TAIL_BYTES = 2048
_TAIL_LINES = 80


def _die_with_parent() -> None:
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ContainerProcess:
    """A running container process."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    @classmethod
    def start(
        cls, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path, pid_file: Path
    ) -> ContainerProcess:
        """Spawn `argv`; raises OSError when it cannot be executed."""
        with log.open("ab") as output:
            popen = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        pid_file.write_text(f"{popen.pid}\n")
        return cls(popen)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        """The raw return code once the process has exited (negative: killed by signal)."""
        code = self.popen.poll()
        if code is not None:
            self._kill_group(signal.SIGKILL)  # whatever it left running goes with it
        return code

    def terminate(self) -> None:
        """SIGTERM the process group (`stop()` waits and kills)."""
        if self.popen.poll() is None:
            self._kill_group(signal.SIGTERM)

    def stop(self, grace: float) -> int:
        """SIGTERM the process group, SIGKILL it after `grace` s; the raw return code."""
        if self.popen.poll() is None:
            self._kill_group(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while self.popen.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
        self._kill_group(signal.SIGKILL)
        return self.popen.wait()

    def _kill_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)


def log_tail(log: Path) -> str:
    """The end of a container log, as the kubelet's FallbackToLogsOnError keeps it."""
    try:
        with log.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - _TAIL_BYTES))
            data = handle.read()
    except OSError:
        return ""
    lines = data.decode("utf-8", errors="replace").splitlines()[-_TAIL_LINES:]
    return "\n".join(lines).strip()
