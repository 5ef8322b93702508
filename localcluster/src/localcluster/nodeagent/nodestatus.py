"""The Node and its Lease as the kubelet registers and renews them, as plain dicts.

Pure logic: a Ready node with fixed allocatable resources (cpu 8, memory 16Gi,
110 pods), loopback addresses, plausible nodeInfo and no taints; the heartbeat patch
refreshes the conditions' lastHeartbeatTime; the Lease lives in kube-node-lease.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40
RESOURCES = {"cpu": "8", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
_ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}

# type -> (status, reason, message), as the kubelet words them.
_CONDITIONS = {
    "MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    "Ready": ("True", "KubeletReady", "node agent is posting ready status"),
}


@dataclass(frozen=True)
class HostInfo:
    """Facts about this machine that go into nodeInfo."""

    kernel_version: str
    os_image: str
    architecture: str
    machine_id: str
    boot_id: str


def micro_time(moment: datetime | None = None) -> str:
    """A metav1.MicroTime string."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_labels(name: str, architecture: str) -> dict[str, str]:
    return {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": architecture,
        "beta.kubernetes.io/os": "linux",
        "beta.kubernetes.io/arch": architecture,
    }


def node_conditions(now: str, *, transition: bool) -> list[dict[str, Any]]:
    """All node conditions with a fresh heartbeat; transition times only when registering."""
    conditions = []
    for kind, (status, reason, message) in _CONDITIONS.items():
        condition = {"type": kind, "status": status, "reason": reason, "message": message, "lastHeartbeatTime": now}
        if transition:
            condition["lastTransitionTime"] = now
        conditions.append(condition)
    return conditions


def node_status(name: str, kubelet_version: str, host: HostInfo, now: str) -> dict[str, Any]:
    return {
        "capacity": dict(RESOURCES),
        "allocatable": dict(RESOURCES),
        "conditions": node_conditions(now, transition=True),
        "addresses": [
            {"type": "InternalIP", "address": "127.0.0.1"},
            {"type": "Hostname", "address": name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": host.machine_id,
            "systemUUID": host.machine_id,
            "bootID": host.boot_id,
            "kernelVersion": host.kernel_version,
            "osImage": host.os_image,
            "containerRuntimeVersion": "local://nodeagent",
            "kubeletVersion": kubelet_version,
            "operatingSystem": "linux",
            "architecture": host.architecture,
        },
    }


def node_object(name: str, kubelet_version: str, host: HostInfo, now: str) -> dict[str, Any]:
    """The Node to create when registering: Ready, schedulable, untainted."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": node_labels(name, host.architecture)},
        "spec": {},
        "status": node_status(name, kubelet_version, host, now),
    }


def heartbeat_patch(now: str) -> dict[str, Any]:
    """A strategic merge patch of nodes/status refreshing every condition's heartbeat."""
    return {"status": {"conditions": node_conditions(now, transition=False)}}


def lease_object(name: str, node_uid: str, renew_time: str) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": name,
            "namespace": LEASE_NAMESPACE,
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}],
        },
        "spec": {
            "holderIdentity": name,
            "leaseDurationSeconds": LEASE_DURATION_SECONDS,
            "renewTime": renew_time,
        },
    }


def lease_renewal(renew_time: str) -> dict[str, Any]:
    return {"spec": {"renewTime": renew_time, "leaseDurationSeconds": LEASE_DURATION_SECONDS}}


def host_info() -> HostInfo:
    """This machine's kernel, OS image, architecture and ids (best effort)."""
    return HostInfo(
        kernel_version=platform.release(),
        os_image=_os_image(),
        architecture=_ARCHES.get(platform.machine(), platform.machine()),
        machine_id=_read_first_line("/etc/machine-id") or "0" * 32,
        boot_id=_read_first_line("/proc/sys/kernel/random/boot_id") or "unknown",
    )


def _os_image() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as release:
            for line in release:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _read_first_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().strip()
    except OSError:
        return ""
