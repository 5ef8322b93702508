"""The system the e2e suite runs against: the chart installed in a Kubernetes cluster.

Two ways to get one, one interface (`E2ESystem`):
- here (the default): a fresh local control plane, the node agent running the chart's
  pods as local processes (the same console scripts the image's commands name), the S3
  server, and PostgreSQL; the chart is installed with `helm install --wait`.
- kind (`TRACKER_E2E_TARGET=kind`, set by `scripts/e2e-kind`): the kind cluster that
  script made, with the image loaded and PostgreSQL and MinIO deployed; the chart is
  installed the same way, with the same values.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from localcluster.binaries import control_plane_binaries
from localcluster.controlplane import NODE_NAME, ControlPlane
from localcluster.kubeconfig import write_kubeconfig
from localcluster.nodeagent import agent_process
from localcluster.postgres import PostgresServer
from localcluster.processes import ManagedProcess, free_port, wait_until
from localcluster.s3server import S3Server, local_client

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "tracker"
RELEASE = "tracker"
RELEASE_NAMESPACE = "tracker-system"
DATABASE_SECRET = "tracker-database"
S3_SECRET = "tracker-s3"
ADMIN_ACCOUNT = "e2e-admin"  # a ServiceAccount in the release namespace, in admins.users
HEARTBEAT_TIMEOUT_SECONDS = 15


@dataclass
class E2ESystem:
    """A cluster with the chart installed, and how to reach its API and S3."""

    kubeconfig: Path
    bin_dir: Path  # kubectl and helm
    api_url: str
    s3_endpoint: str  # as the tests reach it
    s3_access_key: str
    s3_secret_key: str
    s3_region: str
    database_url: str  # as the cluster's pods reach it
    work_dir: Path

    def kubectl(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        kubeconfig: Path | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin_dir / "kubectl"), f"--kubeconfig={kubeconfig or self.kubeconfig}", *args]
        result = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def apply(self, *objects: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}))

    def s3_client(self) -> Any:
        return local_client(self.s3_endpoint, self.s3_access_key, self.s3_secret_key, self.s3_region)

    def service_account_user(self, namespace: str, name: str) -> Path:
        """A kubeconfig for ServiceAccount `name` in `namespace` (created if missing): the
        e2e suite's people are service accounts, which every cluster can mint."""
        self.kubectl("create", "serviceaccount", name, "-n", namespace, check=False)
        token = self.kubectl("create", "token", name, "-n", namespace, "--duration=2h").stdout.strip()
        config = json.loads(self.kubectl("config", "view", "--raw", "--minify", "-o", "json").stdout)
        cluster = config["clusters"][0]["cluster"]
        path = self.work_dir / "users" / f"{namespace}-{name}.kubeconfig"
        return write_kubeconfig(
            path, server=cluster["server"], ca_pem=_ca_pem(cluster), user=username(namespace, name), token=token
        )

    def token(self, namespace: str, name: str) -> str:
        return self.kubectl("create", "token", name, "-n", namespace, "--duration=1h").stdout.strip()


def username(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


def _ca_pem(cluster: dict[str, Any]) -> bytes:
    if "certificate-authority-data" in cluster:
        return base64.b64decode(cluster["certificate-authority-data"])
    return Path(cluster["certificate-authority"]).read_bytes()


def chart_values(*, s3_endpoint: str, s3_region: str, api_port: int, health_port: int) -> dict[str, Any]:
    """The values the e2e suite installs the chart with, on any cluster."""
    return {
        "image": {"repository": "workflow-tracker", "tag": "e2e", "pullPolicy": "Never"},
        "database": {"existingSecret": DATABASE_SECRET},
        "s3": {"endpointUrl": s3_endpoint, "region": s3_region, "existingSecret": S3_SECRET},
        "thresholds": {"heartbeatTimeoutSeconds": HEARTBEAT_TIMEOUT_SECONDS, "stalledAfterSeconds": 15},
        "admins": {"users": [username(RELEASE_NAMESPACE, ADMIN_ACCOUNT)]},
        "operator": {"healthPort": health_port, "peeringLifetimeSeconds": 10},
        "api": {"port": api_port, "authMode": "kubernetes"},
        "tower": {"runs": "kubernetes", "statusIntervalSeconds": 2},
        "worker": {"ttlSecondsAfterFinished": 600},
    }


def restricted_namespace(system: E2ESystem, namespace: str) -> None:
    """`namespace`, enforcing the restricted Pod Security Standard (the apiserver refuses
    any pod of the chart or any worker pod that is not restricted)."""
    system.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "labels": {
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                },
            },
        }
    )


def provide_secrets(system: E2ESystem, namespace: str) -> None:
    """The release namespace (restricted) and the Secrets the chart's components and
    worker pods read there: the only place they live."""
    restricted_namespace(system, namespace)
    system.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": DATABASE_SECRET, "namespace": namespace},
            "stringData": {"url": system.database_url},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": S3_SECRET, "namespace": namespace},
            "stringData": {"AWS_ACCESS_KEY_ID": system.s3_access_key, "AWS_SECRET_ACCESS_KEY": system.s3_secret_key},
        },
    )


def helm(system: E2ESystem, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KUBECONFIG": str(system.kubeconfig),
        "HELM_CACHE_HOME": str(system.work_dir / "helm"),
        "HELM_CONFIG_HOME": str(system.work_dir / "helm"),
        "HELM_DATA_HOME": str(system.work_dir / "helm"),
    }
    result = subprocess.run(
        [str(system.bin_dir / "helm"), *args], capture_output=True, text=True, timeout=timeout, env=env
    )
    if result.returncode != 0:
        raise RuntimeError(f"helm {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def install_chart(system: E2ESystem, values: dict[str, Any]) -> None:
    """`helm install --wait`; on failure, the error says what the pods were doing."""
    values_file = system.work_dir / "values.json"
    values_file.write_text(json.dumps(values))
    try:
        helm(
            system,
            "install",
            RELEASE,
            str(CHART),
            "--namespace",
            RELEASE_NAMESPACE,
            "--values",
            str(values_file),
            "--wait",
            "--timeout",
            "5m",
            timeout=360,
        )
    except RuntimeError as error:
        pods = system.kubectl("get", "pods", "-A", "-o", "wide", check=False).stdout
        raise RuntimeError(f"{error}\n{pods}") from None


@contextmanager
def local_system(work_dir: Path, postgres: PostgresServer) -> Iterator[E2ESystem]:
    """A fresh control plane with the chart installed, its pods run by the node agent."""
    with ExitStack() as stack:
        plane = ControlPlane(state_dir=work_dir / "controlplane").start()
        stack.callback(plane.stop)
        agent = agent_process(
            kubeconfig=plane.node_kubeconfig, node_name=NODE_NAME, state_dir=work_dir / "nodeagent"
        ).start()
        stack.callback(agent.stop)
        s3 = S3Server(log_dir=work_dir / "logs").start()
        stack.callback(s3.stop)
        database_url = postgres.create_database("tracker_e2e")
        stack.callback(postgres.drop_database, "tracker_e2e")
        api_port, health_port = free_port(), free_port()
        system = E2ESystem(
            kubeconfig=plane.kubeconfig,
            bin_dir=control_plane_binaries(),
            api_url=f"http://127.0.0.1:{api_port}",
            s3_endpoint=s3.endpoint_url,
            s3_access_key=s3.access_key,
            s3_secret_key=s3.secret_key,
            s3_region=s3.region,
            database_url=database_url,
            work_dir=work_dir,
        )
        wait_until(lambda: _node_ready(system), timeout=60, what=f"node {NODE_NAME} to be Ready")
        provide_secrets(system, RELEASE_NAMESPACE)
        install_chart(
            system,
            chart_values(s3_endpoint=s3.endpoint_url, s3_region=s3.region, api_port=api_port, health_port=health_port),
        )
        wait_until(lambda: _ready(system.api_url), timeout=60, what="the chart's API to answer /readyz")
        yield system


KIND_DEPS = "tracker-e2e-deps"  # tests/e2e/kind/services.yaml: PostgreSQL and MinIO
KIND_DATABASE_URL = f"postgresql+psycopg://tracker:tracker-e2e@postgres.{KIND_DEPS}:5432/tracker"
KIND_S3 = (f"http://minio.{KIND_DEPS}:9000", "tracker-e2e", "tracker-e2e-secret")


@contextmanager
def kind_system(work_dir: Path) -> Iterator[E2ESystem]:
    """The chart installed on the kind cluster `scripts/e2e-kind` made (its kubeconfig in
    TRACKER_E2E_KUBECONFIG, the image loaded, PostgreSQL and MinIO running); the API
    and MinIO reached through `kubectl port-forward`."""
    s3_in_cluster, access_key, secret_key = KIND_S3
    with ExitStack() as stack:
        api_port, s3_port = free_port(), free_port()
        system = E2ESystem(
            kubeconfig=Path(os.environ["TRACKER_E2E_KUBECONFIG"]),
            bin_dir=control_plane_binaries(),
            api_url=f"http://127.0.0.1:{api_port}",
            s3_endpoint=f"http://127.0.0.1:{s3_port}",
            s3_access_key=access_key,
            s3_secret_key=secret_key,
            s3_region="us-east-1",
            database_url=KIND_DATABASE_URL,
            work_dir=work_dir,
        )
        stack.enter_context(_port_forward(system, KIND_DEPS, "service/minio", s3_port, 9000))
        provide_secrets(system, RELEASE_NAMESPACE)
        install_chart(
            system, chart_values(s3_endpoint=s3_in_cluster, s3_region="us-east-1", api_port=8000, health_port=8080)
        )
        stack.enter_context(_port_forward(system, RELEASE_NAMESPACE, f"service/{RELEASE}-api", api_port, 80))
        wait_until(lambda: _ready(system.api_url), timeout=60, what="the chart's API to answer /readyz")
        yield system


@contextmanager
def _port_forward(system: E2ESystem, namespace: str, target: str, local: int, remote: int) -> Iterator[None]:
    process = ManagedProcess(
        name=f"port-forward-{target.rsplit('/', 1)[-1]}",
        argv=[
            str(system.bin_dir / "kubectl"),
            f"--kubeconfig={system.kubeconfig}",
            "-n",
            namespace,
            "port-forward",
            target,
            f"{local}:{remote}",
        ],
        log_path=system.work_dir / "logs" / f"port-forward-{local}.log",
    ).start_until(lambda: _listening(local), timeout=60, what=f"port-forward to {target}")
    try:
        yield
    finally:
        process.stop()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _node_ready(system: E2ESystem) -> bool:
    result = system.kubectl(
        "get", "node", NODE_NAME, "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}', check=False
    )
    return result.stdout == "True"


def _ready(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
