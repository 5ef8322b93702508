"""The tracker's own components on the local control plane, configured as the chart
configures its pods: RBAC from rbac/, the operator under its service account's
token, a kopf peering object, worker Jobs run by the node agent in the system
namespace (under the worker's service account, with the S3 Secret there only), and
the API under its own service account."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from localcluster.controlplane import ControlPlane
from localcluster.kubeconfig import write_kubeconfig
from localcluster.processes import ManagedProcess, free_port
from localcluster.repo import repo_root
from localcluster.s3server import S3Server

SYSTEM_NAMESPACE = "tracker-system"
S3_SECRET = "tracker-s3-credentials"
WORKER_SERVICE_ACCOUNT = "tracker-worker"
API_SERVICE_ACCOUNT = "tracker-api"
BIN_DIR = Path(sys.executable).parent


def install_rbac(plane: ControlPlane) -> None:
    """The ClusterRoles from rbac/, the admission policy from admission/, and the
    operator's and the worker's service accounts and bindings, as the chart makes them."""
    plane.kubectl("apply", "-f", str(repo_root() / "rbac"))
    plane.kubectl("apply", "-f", str(repo_root() / "admission"))
    plane.kubectl("create", "namespace", SYSTEM_NAMESPACE, check=False)
    for account in ("tracker-operator", WORKER_SERVICE_ACCOUNT, API_SERVICE_ACCOUNT):
        plane.kubectl("create", "serviceaccount", account, "-n", SYSTEM_NAMESPACE, check=False)
        plane.kubectl(
            "create",
            "clusterrolebinding",
            account,
            f"--clusterrole={account}",
            f"--serviceaccount={SYSTEM_NAMESPACE}:{account}",
            check=False,
        )
    plane.kubectl(  # the trace receiver writes runs as WorkflowRuns, as the chart's default
        "create",
        "clusterrolebinding",
        "tracker-api-runs",
        "--clusterrole=tracker-api-runs",
        f"--serviceaccount={SYSTEM_NAMESPACE}:{API_SERVICE_ACCOUNT}",
        check=False,
    )
    plane.kubectl(
        "create",
        "rolebinding",
        "tracker-worker-jobs",
        "--clusterrole=tracker-worker-jobs",
        f"--serviceaccount={SYSTEM_NAMESPACE}:tracker-operator",
        "-n",
        SYSTEM_NAMESPACE,
        check=False,
    )


def service_account_kubeconfig(plane: ControlPlane, name: str, path: Path) -> Path:
    token = plane.kubectl("create", "token", name, "-n", SYSTEM_NAMESPACE, "--duration=24h").stdout.strip()
    return write_kubeconfig(
        path,
        server=plane.server,
        ca_pem=plane.ca_file.read_bytes(),
        user=f"system:serviceaccount:{SYSTEM_NAMESPACE}:{name}",
        token=token,
    )


def provide_s3_secret(plane: ControlPlane, s3: S3Server) -> None:
    """The S3 credentials Secret worker pods read (by reference) in the system namespace."""
    plane.kubectl(
        "create",
        "secret",
        "generic",
        S3_SECRET,
        "-n",
        SYSTEM_NAMESPACE,
        f"--from-literal=AWS_ACCESS_KEY_ID={s3.access_key}",
        f"--from-literal=AWS_SECRET_ACCESS_KEY={s3.secret_key}",
        check=False,
    )


@dataclass
class Operator:
    """`tracker-operator` as a local process."""

    plane: ControlPlane
    s3: S3Server
    state_dir: Path
    database_url: str
    namespaces: tuple[str, ...] = ()
    peering: str = "tracker"
    extra_env: dict[str, str] = field(default_factory=dict)
    tied_to_parent: bool = True
    process: ManagedProcess | None = None

    def env(self) -> dict[str, str]:
        kubeconfig = service_account_kubeconfig(self.plane, "tracker-operator", self.state_dir / "operator.kubeconfig")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "AWS_"))}
        env.update(
            {
                "KUBECONFIG": str(kubeconfig),
                "TRACKER_DATABASE_URL": self.database_url,
                "TRACKER_S3__ENDPOINT_URL": self.s3.endpoint_url,
                "TRACKER_WORKER__NAMESPACE": SYSTEM_NAMESPACE,
                "TRACKER_WORKER__SERVICE_ACCOUNT": WORKER_SERVICE_ACCOUNT,
                "TRACKER_WORKER__S3_CREDENTIALS_SECRET": S3_SECRET,
                "TRACKER_WORKER__IMAGE": "workflow-tracker:dev",
                "TRACKER_NAMESPACES": "[" + ",".join(f'"{n}"' for n in self.namespaces) + "]",
                "AWS_ACCESS_KEY_ID": self.s3.access_key,
                "AWS_SECRET_ACCESS_KEY": self.s3.secret_key,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> Operator:
        provide_s3_secret(self.plane, self.s3)
        self.plane.kubectl(
            "apply",
            "-f",
            "-",
            input=(f"apiVersion: kopf.dev/v1\nkind: ClusterKopfPeering\nmetadata:\n  name: {self.peering}\n"),
        )
        port = free_port()
        # Kept before it is ready, so that `stop()` ends it when it never becomes ready.
        self.process = ManagedProcess(
            name="tracker-operator",
            argv=[
                str(BIN_DIR / "tracker-operator"),
                f"--peering={self.peering}",
                f"--liveness=http://127.0.0.1:{port}/healthz",
            ],
            log_path=self.state_dir / "operator.log",
            env=self.env(),
            tied_to_parent=self.tied_to_parent,
        )
        self.process.start_until(lambda: _alive(port), timeout=timeout, what="the operator's liveness endpoint")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        """SIGKILL, as a crashed pod would die."""
        if self.process is not None and self.process.popen is not None:
            self.process.popen.kill()
            self.process.popen.wait()

    def log_tail(self, lines: int = 80) -> str:
        return self.process.log_tail(lines) if self.process else ""


def _alive(port: int, path: str = "/healthz") -> bool:
    return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200


def start_api(
    plane: ControlPlane, database_url: str, state_dir: Path, *, tied_to_parent: bool = True
) -> tuple[ManagedProcess, str]:
    """`tracker-api` on a free loopback port, under its service account's token. The
    read API and the pages ask for no token (local use only); the Nextflow trace
    receiver checks tokens with the API server (TokenReview, SubjectAccessReview) and
    writes runs as WorkflowRuns, so `TOWER_ACCESS_TOKEN=$(kubectl create token ...)` works."""
    port = free_port()
    kubeconfig = service_account_kubeconfig(plane, API_SERVICE_ACCOUNT, state_dir / "api.kubeconfig")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        KUBECONFIG=str(kubeconfig),
        TRACKER_DATABASE_URL=database_url,
        TRACKER_API__AUTH_MODE="none",
        TRACKER_TOWER__AUTH_MODE="kubernetes",
        TRACKER_TOWER__RUNS="kubernetes",
        PYTHONUNBUFFERED="1",
    )
    process = ManagedProcess(
        name="tracker-api",
        argv=[str(BIN_DIR / "tracker-api"), "--host", "127.0.0.1", "--port", str(port)],
        log_path=state_dir / "api.log",
        env=env,
        tied_to_parent=tied_to_parent,
    )
    try:
        process.start_until(lambda: _alive(port, "/readyz"), timeout=60, what="the read API")
    except BaseException:
        process.stop()  # never ready (or interrupted): nobody else holds a handle on it
        raise
    return process, f"http://127.0.0.1:{port}"
