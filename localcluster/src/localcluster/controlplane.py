"""A real Kubernetes control plane on loopback: etcd, kube-apiserver,
kube-controller-manager and kube-scheduler, built from their Go modules.

TLS everywhere, RBAC and Node authorization, client-certificate users, service-account
signing keys; admission (ValidatingAdmissionPolicy included) as upstream defaults it.
The same class serves the pytest fixture and `localcluster up`.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from localcluster.binaries import control_plane_binaries
from localcluster.kubeconfig import write_kubeconfig
from localcluster.pki import CertificateAuthority, KeyPair, service_account_keys
from localcluster.processes import ManagedProcess, free_port, stop_process_group, wait_until

NODE_NAME = "tracker-node"
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
START_TIMEOUT = 120.0


@dataclass
class ControlPlane:
    """The control plane's processes, credentials and state directory."""

    state_dir: Path
    bin_dir: Path = field(default_factory=control_plane_binaries)
    tied_to_parent: bool = True
    profiling: bool = False  # kube-apiserver's /debug/pprof, for the benchmarks
    processes: list[ManagedProcess] = field(default_factory=list, init=False)
    api_port: int = field(default=0, init=False)

    # -- paths -------------------------------------------------------------------
    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def ca_file(self) -> Path:
        return self.pki_dir / "ca.crt"

    @property
    def kubeconfig(self) -> Path:
        """The admin (system:masters) kubeconfig."""
        return self.state_dir / "admin.kubeconfig"

    @property
    def node_kubeconfig(self) -> Path:
        """Credentials of the node `NODE_NAME` (user system:node:NAME, group system:nodes)."""
        return self.state_dir / "node.kubeconfig"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def _state_file(self) -> Path:
        return self.state_dir / "controlplane.json"

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> ControlPlane:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.api_port = free_port()
        ca = self._write_pki()
        etcd_url = self._start_etcd()
        self._start_apiserver(ca, etcd_url)
        self._start_controller(
            ca,
            "kube-controller-manager",
            "system:kube-controller-manager",
            [
                f"--root-ca-file={self.ca_file}",
                f"--service-account-private-key-file={self.pki_dir / 'sa.key'}",
                "--use-service-account-credentials=true",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                f"--cluster-signing-cert-file={self.ca_file}",
                f"--cluster-signing-key-file={self.pki_dir / 'ca.key'}",
            ],
        )
        self._start_controller(ca, "kube-scheduler", "system:kube-scheduler", [])
        self._save_state()
        # The controller manager is serving once it has created the default service account.
        wait_until(
            self._default_service_account_exists,
            timeout=START_TIMEOUT,
            what="kube-controller-manager to create the default service account",
        )
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        self._state_file.unlink(missing_ok=True)

    @classmethod
    def stop_recorded(cls, state_dir: Path) -> bool:
        """Stop a control plane started by another command (`localcluster down`)."""
        state_file = state_dir / "controlplane.json"
        if not state_file.exists():
            return False
        for pid in reversed(json.loads(state_file.read_text())["pids"]):
            stop_process_group(pid)
        state_file.unlink()
        return True

    @classmethod
    def attach(cls, state_dir: Path) -> ControlPlane:
        """A handle on a control plane already running from `state_dir`."""
        state = json.loads((state_dir / "controlplane.json").read_text())
        plane = cls(state_dir=state_dir, bin_dir=Path(state["bin_dir"]), tied_to_parent=False)
        plane.api_port = state["api_port"]
        return plane

    def check_running(self) -> None:
        for process in self.processes:
            process.check_running()

    # -- users and clients -------------------------------------------------------
    def mint_user(self, name: str, groups: Sequence[str] = ()) -> Path:
        """A kubeconfig for a client-certificate user `name` in `groups`."""
        ca = CertificateAuthority.load(self.ca_file, self.pki_dir / "ca.key")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return self._write_user_kubeconfig(
            ca, ca.issue(name, organizations=groups), self.state_dir / "users" / f"{safe}.kubeconfig", name
        )

    def kubectl(
        self,
        *args: str,
        kubeconfig: Path | None = None,
        input: str | None = None,
        check: bool = True,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real kubectl against this control plane (admin unless `kubeconfig`)."""
        argv = [str(self.bin_dir / "kubectl"), f"--kubeconfig={kubeconfig or self.kubeconfig}", *args]
        result = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, argv, result.stdout, result.stderr)
        return result

    def api_client(self, kubeconfig: Path | None = None) -> Any:
        """A `kubernetes.client.ApiClient` for this control plane."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(kubeconfig or self.kubeconfig))

    def env(self) -> dict[str, str]:
        """Environment variables pointing tools (kubectl, helm, tracker) at this cluster."""
        path = f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
        return {"KUBECONFIG": str(self.kubeconfig), "PATH": path}

    # -- internals ---------------------------------------------------------------
    def _write_pki(self) -> CertificateAuthority:
        ca = CertificateAuthority.create()
        ca.pair.write(self.pki_dir, "ca")
        serving = ca.issue(
            "kube-apiserver",
            dns_names=[
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ],
            ip_addresses=["127.0.0.1", "10.0.0.1"],
            server=True,
        )
        serving.write(self.pki_dir, "apiserver")
        sa_private, sa_public = service_account_keys()
        (self.pki_dir / "sa.key").write_bytes(sa_private)
        (self.pki_dir / "sa.pub").write_bytes(sa_public)
        self._write_user_kubeconfig(ca, ca.issue("admin", organizations=["system:masters"]), self.kubeconfig, "admin")
        self._write_user_kubeconfig(
            ca,
            ca.issue(f"system:node:{NODE_NAME}", organizations=["system:nodes"]),
            self.node_kubeconfig,
            f"system:node:{NODE_NAME}",
        )
        return ca

    def _write_user_kubeconfig(self, ca: CertificateAuthority, pair: KeyPair, path: Path, user: str) -> Path:
        return write_kubeconfig(
            path, server=self.server, ca_pem=ca.pair.cert_pem, user=user, cert_pem=pair.cert_pem, key_pem=pair.key_pem
        )

    def _spawn(self, name: str, argv: list[str]) -> ManagedProcess:
        process = ManagedProcess(
            name=name, argv=argv, log_path=self.state_dir / "logs" / f"{name}.log", tied_to_parent=self.tied_to_parent
        ).start()
        self.processes.append(process)
        return process

    def _start_etcd(self) -> str:
        client_port, peer_port = free_port(), free_port()
        client_url, peer_url = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
        etcd = self._spawn(
            "etcd",
            [
                str(self.bin_dir / "etcd"),
                "--name=default",
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
        )
        wait_until(lambda: _etcd_healthy(client_url, etcd), timeout=START_TIMEOUT, what="etcd health")
        return client_url

    def _start_apiserver(self, ca: CertificateAuthority, etcd_url: str) -> None:
        apiserver = self._spawn(
            "kube-apiserver",
            [
                str(self.bin_dir / "kube-apiserver"),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.api_port}",
                f"--cert-dir={self.pki_dir}",
                f"--tls-cert-file={self.pki_dir / 'apiserver.crt'}",
                f"--tls-private-key-file={self.pki_dir / 'apiserver.key'}",
                f"--client-ca-file={self.ca_file}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                f"--service-account-issuer={self.server}",
                f"--service-account-key-file={self.pki_dir / 'sa.pub'}",
                f"--service-account-signing-key-file={self.pki_dir / 'sa.key'}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NodeRestriction",
                "--allow-privileged=true",
                # The lease reconciler would publish 127.0.0.1 as the `kubernetes` Service's
                # endpoint, which the apiserver refuses; nothing in-cluster needs it here.
                "--endpoint-reconciler-type=none",
                f"--profiling={str(self.profiling).lower()}",
            ],
        )
        client = httpx.Client(verify=ssl.create_default_context(cafile=str(self.ca_file)), timeout=5)
        try:
            wait_until(
                lambda: _apiserver_ready(client, self.server, apiserver),
                timeout=START_TIMEOUT,
                what="kube-apiserver /readyz",
            )
        finally:
            client.close()

    def _start_controller(self, ca: CertificateAuthority, name: str, user: str, extra: list[str]) -> None:
        kubeconfig = self._write_user_kubeconfig(ca, ca.issue(user), self.state_dir / f"{name}.kubeconfig", user)
        self._spawn(
            name,
            [
                str(self.bin_dir / name),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
                "--bind-address=127.0.0.1",
                f"--secure-port={free_port()}",
                f"--cert-dir={self.state_dir / name}",
                "--leader-elect=false",
                *extra,
            ],
        )

    def _default_service_account_exists(self) -> bool:
        self.check_running()
        result = self.kubectl(
            "get", "serviceaccount", "default", "-n", "default", "-o", "name", check=False, timeout=10
        )
        return result.returncode == 0

    def _save_state(self) -> None:
        state = {
            "api_port": self.api_port,
            "bin_dir": str(self.bin_dir),
            "pids": [p.pid for p in self.processes],
        }
        self._state_file.write_text(json.dumps(state, indent=2))


def _etcd_healthy(client_url: str, process: ManagedProcess) -> bool:
    process.check_running()
    response = httpx.get(f"{client_url}/health", timeout=2)
    return response.status_code == 200 and response.json().get("health") == "true"


def _apiserver_ready(client: httpx.Client, server: str, process: ManagedProcess) -> bool:
    process.check_running()
    # /readyz is readable by anyone (system:public-info-viewer), so no credentials are needed.
    return client.get(f"{server}/readyz").status_code == 200
