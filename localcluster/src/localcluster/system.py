"""The local system as one unit: control plane, node agent, S3 server, the tracker
operator and the read API on an SQLite index.

`LocalSystem` starts it either tied to the calling process (`localcluster run`, which
stops it on Ctrl-C; its children die with it even if it is killed) or detached
(`localcluster up`, stopped later by `localcluster down`). A start that fails half-way
stops whatever had started. Its state directory holds every credential, log and pid,
and `system.json`, which `env` and `down` read back.
"""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from localcluster.controlplane import NODE_NAME, ControlPlane
from localcluster.nodeagent import agent_process
from localcluster.processes import ManagedProcess, stop_process_group, wait_until
from localcluster.repo import repo_root
from localcluster.s3server import S3Server
from localcluster.tracker import BIN_DIR, Operator, install_rbac, start_api


class AlreadyRunning(RuntimeError):
    """A system is already recorded in the state directory."""


@dataclass
class SystemRecord:
    """What a start leaves behind for `env` and `down`."""

    kubeconfig: str
    bin_dir: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    s3_region: str
    api_url: str
    pids: dict[str, int]

    def env(self) -> dict[str, str]:
        return {
            "KUBECONFIG": self.kubeconfig,
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": self.s3_access_key,
            "AWS_SECRET_ACCESS_KEY": self.s3_secret_key,
            "AWS_DEFAULT_REGION": self.s3_region,
            "TRACKER_S3__ENDPOINT_URL": self.s3_endpoint,
            "TRACKER_API_URL": self.api_url,
        }

    def shell_exports(self) -> str:
        lines = [f"export {k}={shlex.quote(v)}" for k, v in self.env().items()]
        lines.append(f'export PATH={shlex.quote(self.bin_dir)}:{shlex.quote(str(BIN_DIR))}:"$PATH"')
        return "\n".join(lines)


def _record_path(state_dir: Path) -> Path:
    return state_dir / "system.json"


def load_record(state_dir: Path) -> SystemRecord | None:
    path = _record_path(state_dir)
    return SystemRecord(**json.loads(path.read_text())) if path.exists() else None


# What a start leaves in the state directory; a new start clears it (a fresh system).
_PREVIOUS = ("controlplane", "nodeagent", "logs", "tracker.db", "tracker.db-wal", "tracker.db-shm")


class LocalSystem:
    """The components, started in order and stopped in reverse."""

    def __init__(self, state_dir: Path, *, detached: bool) -> None:
        self.state_dir = state_dir
        self.tied = not detached
        self.plane: ControlPlane | None = None
        self.agent: ManagedProcess | None = None
        self.s3: S3Server | None = None
        self.operator: Operator | None = None
        self.api: ManagedProcess | None = None
        self.record: SystemRecord | None = None

    def start(self) -> SystemRecord:
        """Start every component and record them; on any failure, stop what started."""
        if load_record(self.state_dir) is not None:
            raise AlreadyRunning(
                f"a local system is already recorded in {self.state_dir}: "
                "stop it (Ctrl-C, or `localcluster down`) first"
            )
        _clear_previous(self.state_dir)
        try:
            self.record = self._start_components()
        except BaseException:
            self.stop()
            raise
        _record_path(self.state_dir).write_text(json.dumps(asdict(self.record), indent=2))
        return self.record

    def _start_components(self) -> SystemRecord:
        logs = self.state_dir / "logs"
        self.plane = ControlPlane(state_dir=self.state_dir / "controlplane", tied_to_parent=self.tied)
        self.plane.start()
        install_crds(self.plane)
        self.agent = agent_process(
            kubeconfig=self.plane.node_kubeconfig,
            node_name=NODE_NAME,
            state_dir=self.state_dir / "nodeagent",
            tied_to_parent=self.tied,
        ).start()
        self.s3 = S3Server(log_dir=logs, tied_to_parent=self.tied)
        self.s3.start()
        install_rbac(self.plane)
        self.operator = Operator(
            plane=self.plane,
            s3=self.s3,
            state_dir=logs,
            database_url=f"sqlite:///{self.state_dir / 'tracker.db'}",
            extra_env={"TRACKER_ADMINS__USERS": '["admin"]'},  # the local kubeconfig's user
            tied_to_parent=self.tied,
        )
        self.operator.start()
        self.api, api_url = start_api(self.plane, self.operator.database_url, logs, tied_to_parent=self.tied)
        return SystemRecord(
            kubeconfig=str(self.plane.kubeconfig),
            bin_dir=str(self.plane.bin_dir),
            s3_endpoint=self.s3.endpoint_url,
            s3_access_key=self.s3.access_key,
            s3_secret_key=self.s3.secret_key,
            s3_region=self.s3.region,
            api_url=api_url,
            pids={name: process.pid for name, process in self._processes().items()},
        )

    def _processes(self) -> dict[str, ManagedProcess]:
        """The components' processes besides the control plane's, in start order."""
        operator = self.operator.process if self.operator else None
        named = {
            "nodeagent": self.agent,
            "s3-server": self.s3.process if self.s3 else None,
            "tracker-operator": operator,
            "tracker-api": self.api,
        }
        return {name: process for name, process in named.items() if process is not None}

    def check_running(self) -> None:
        """Raise, with the tail of its log, if a component has exited."""
        if self.plane is not None:
            self.plane.check_running()
        for process in self._processes().values():
            process.check_running()

    def stop(self) -> None:
        """Stop every component that started (the worker pods go with the node agent),
        then forget the record this system wrote."""
        for process in reversed(self._processes().values()):
            process.stop()
        if self.plane is not None:
            self.plane.stop()
        if self.record is not None:
            _record_path(self.state_dir).unlink(missing_ok=True)
            self.record = None


def _clear_previous(state_dir: Path) -> None:
    """Remove what an earlier, stopped system left (its etcd data, index and logs)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    for name in _PREVIOUS:
        path = state_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def down(state_dir: Path) -> bool:
    """Stop whatever a detached start recorded; False when nothing was recorded."""
    record = load_record(state_dir)
    if record is not None:
        for pid in reversed(record.pids.values()):
            stop_process_group(pid)
        _record_path(state_dir).unlink()
    stopped_plane = ControlPlane.stop_recorded(state_dir / "controlplane")
    return record is not None or stopped_plane


def install_crds(plane: ControlPlane) -> None:
    """Apply the CRDs from crds/ and wait until the apiserver serves them."""
    plane.kubectl("apply", "-f", str(repo_root() / "crds"))

    def established(name: str) -> bool:
        return (
            plane.kubectl(
                "get",
                "crd",
                name,
                "-o",
                'jsonpath={.status.conditions[?(@.type=="Established")].status}',
                check=False,
            ).stdout
            == "True"
        )

    for name in ("workflowruns.tracker.dev", "outputlifecyclejobs.tracker.dev"):
        wait_until(partial(established, name), timeout=60, what=f"CRD {name} to be Established")
