"""The local system as one unit: control plane, node agent, S3 server, the tracker
operator and the read API on an SQLite index, started detached by `localcluster up`
and stopped by `localcluster down`.

Its state directory holds every credential, log and pid, and `system.json`, which
`env` and `down` read back.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path

from localcluster.controlplane import NODE_NAME, ControlPlane
from localcluster.nodeagent import agent_process
from localcluster.processes import stop_process_group, wait_until
from localcluster.s3server import S3Server
from localcluster.tracker import BIN_DIR, Operator, install_rbac, start_api

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_DIR = REPO_ROOT / "crds"
DEFAULT_STATE_DIR = REPO_ROOT / ".state" / "local"


class AlreadyRunning(RuntimeError):
    """`up` found a system already recorded in the state directory."""


@dataclass
class SystemRecord:
    """What `up` leaves behind for `env` and `down`."""

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


def up(state_dir: Path) -> tuple[SystemRecord, ControlPlane, S3Server]:
    """Start every component detached from this process and record them."""
    if load_record(state_dir) is not None:
        raise AlreadyRunning(f"a local system is already recorded in {state_dir}: run `localcluster down` first")
    plane = ControlPlane(state_dir=state_dir / "controlplane", tied_to_parent=False).start()
    try:
        install_crds(plane)
        agent = agent_process(kubeconfig=plane.node_kubeconfig, node_name=NODE_NAME,
                              state_dir=state_dir / "nodeagent", tied_to_parent=False).start()
        s3 = S3Server(log_dir=state_dir / "logs", tied_to_parent=False).start()
        install_rbac(plane)
        database = f"sqlite:///{state_dir / 'tracker.db'}"
        operator = Operator(plane=plane, s3=s3, state_dir=state_dir / "logs", database_url=database,
                            extra_env={"TRACKER_ADMINS__USERS": '["admin"]'},  # the local kubeconfig's user
                            tied_to_parent=False).start()
        api, api_url = start_api(database, state_dir / "logs", tied_to_parent=False)
    except BaseException:
        plane.stop()
        raise
    record = SystemRecord(
        kubeconfig=str(plane.kubeconfig), bin_dir=str(plane.bin_dir),
        s3_endpoint=s3.endpoint_url, s3_access_key=s3.access_key, s3_secret_key=s3.secret_key,
        s3_region=s3.region, api_url=api_url,
        pids={"tracker-api": api.pid, "tracker-operator": operator.process.pid,  # type: ignore[union-attr]
              "nodeagent": agent.pid, "s3-server": s3.pid},
    )
    _record_path(state_dir).write_text(json.dumps(asdict(record), indent=2))
    return record, plane, s3


def down(state_dir: Path) -> bool:
    """Stop whatever `up` recorded; False when nothing was recorded."""
    record = load_record(state_dir)
    if record is not None:
        for pid in record.pids.values():
            stop_process_group(pid)
        _record_path(state_dir).unlink()
    stopped_plane = ControlPlane.stop_recorded(state_dir / "controlplane")
    return record is not None or stopped_plane


def install_crds(plane: ControlPlane) -> None:
    """Apply the CRDs from crds/ and wait until the apiserver serves them."""
    plane.kubectl("apply", "-f", str(CRD_DIR))
    for name in ("workflowruns.tracker.dev", "outputlifecyclejobs.tracker.dev"):
        wait_until(
            lambda name=name: plane.kubectl(
                "get", "crd", name, "-o",
                'jsonpath={.status.conditions[?(@.type=="Established")].status}', check=False,
            ).stdout == "True",
            timeout=60, what=f"CRD {name} to be Established",
        )
