"""Registering this node and keeping it alive: the Node object and its Lease.

The node controller marks a node unreachable when neither its Lease in
kube-node-lease nor its Ready condition's heartbeat moves; `NodeLifeline.beat()`
renews both (every ~10 s from `run()`), recreating the Node or Lease if they vanished.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from localcluster.nodeagent import nodestatus
from localcluster.nodeagent.kube import STRATEGIC_MERGE_PATCH, Kube, status_of

log = logging.getLogger(__name__)


class NodeLifeline:
    """The Node object and Lease of one node."""

    def __init__(self, kube: Kube, name: str) -> None:
        self._kube = kube
        self.name = name
        self._node_uid = ""
        self._version = ""

    def register(self) -> None:
        """Create the Node (or mark an existing one Ready again). Raises on API errors."""
        self._version = self._kube.get("/version").get("gitVersion", "v0.0.0")
        now = nodestatus.rfc3339()
        node = nodestatus.node_object(self.name, self._version, nodestatus.host_info(), now)
        try:
            created = self._kube.create("/api/v1/nodes", node)
            log.info("registered node %s (kubelet version %s)", self.name, self._version)
        except Exception as error:
            if status_of(error) != 409:
                raise
            created = self._kube.patch(
                f"/api/v1/nodes/{self.name}/status", {"status": node["status"]}, STRATEGIC_MERGE_PATCH
            )
            log.info("node %s already registered; marked Ready", self.name)
        self._node_uid = created["metadata"]["uid"]
        self._renew_lease()

    def beat(self) -> None:
        """Renew the Lease and refresh the Node's condition heartbeats."""
        self._renew_lease()
        try:
            self._kube.patch(
                f"/api/v1/nodes/{self.name}/status",
                nodestatus.heartbeat_patch(nodestatus.rfc3339()),
                STRATEGIC_MERGE_PATCH,
            )
        except Exception as error:
            if status_of(error) != 404:
                raise
            log.warning("node %s disappeared; registering it again", self.name)
            self.register()

    def run(self, stop: threading.Event, interval: float) -> None:
        """Beat every `interval` seconds until `stop` is set; errors are logged, not raised."""
        while not stop.wait(interval):
            try:
                self.beat()
            except Exception as error:
                log.warning("node heartbeat failed: %s", error)

    def _renew_lease(self) -> None:
        path = f"/apis/coordination.k8s.io/v1/namespaces/{nodestatus.LEASE_NAMESPACE}/leases/{self.name}"
        try:
            self._kube.patch(path, nodestatus.lease_renewal(nodestatus.micro_time()))
        except Exception as error:
            if status_of(error) != 404:
                raise
            lease: dict[str, Any] = nodestatus.lease_object(self.name, self._node_uid, nodestatus.micro_time())
            self._kube.create(path.rsplit("/", 1)[0], lease)
