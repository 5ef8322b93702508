"""The node agent: registers a Node, keeps it alive, and runs the pods bound to it.

`NodeAgent.run()` registers the node, starts the heartbeat thread, then lists and
watches the pods with `spec.nodeName=<node>` (re-listing when the watch expires or
fails) and hands each pod to its `PodWorker`. Pods already finished (or finished by
this agent) get only the final delete when they are deleted. A deleted pod's directory
is removed once its worker has exited; a re-list removes those of pods deleted while
the agent was not watching. `request_stop()` ends the loop; on the way out every pod
process is killed.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcluster.nodeagent import layout
from localcluster.nodeagent.env import inherited_environment
from localcluster.nodeagent.images import DEFAULT_IMAGE
from localcluster.nodeagent.kube import Kube, status_of
from localcluster.nodeagent.node import NodeLifeline
from localcluster.nodeagent.podstatus import is_terminal
from localcluster.nodeagent.reporter import final_delete
from localcluster.nodeagent.worker import PodWorker, WorkerContext

log = logging.getLogger(__name__)

WATCH_SECONDS = 240
RETRY_SECONDS = 1.0
STOP_TIMEOUT = 8.0


@dataclass(frozen=True)
class AgentConfig:
    """Where the agent connects, which node it plays, where it keeps pod files."""

    kubeconfig: Path
    node_name: str
    state_dir: Path
    image: str = DEFAULT_IMAGE
    heartbeat_seconds: float = 10.0
    agent_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


class NodeAgent:
    """Plays the kubelet for one Node, running pods as local processes."""

    def __init__(self, config: AgentConfig, kube: Kube | None = None) -> None:
        self.config = config
        self.kube = kube or Kube.from_kubeconfig(config.kubeconfig)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._workers: dict[str, PodWorker] = {}
        self._finished: set[str] = set()
        self._thread: threading.Thread | None = None
        self._context = WorkerContext(
            kube=self.kube,
            state_dir=config.state_dir,
            project_image=config.image,
            inherited_env=inherited_environment(config.agent_env, os.path.dirname(sys.executable)),
            on_exit=self._worker_exited,
        )

    # -- lifecycle -------------------------------------------------------------------
    def run(self) -> None:
        """Register, then run pods until `request_stop()`; kills every pod process on exit."""
        try:
            lifeline = NodeLifeline(self.kube, self.config.node_name)
            if not self._register(lifeline):
                return
            threading.Thread(
                target=lifeline.run, args=(self._stopping, self.config.heartbeat_seconds), name="heartbeat", daemon=True
            ).start()
            self._watch_pods()
        finally:
            self._stop_workers()

    def start(self) -> NodeAgent:
        """Run in a background thread (for use from Python)."""
        self._thread = threading.Thread(target=self.run, name="nodeagent", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Make `run()` return (safe from a signal handler)."""
        self._stopping.set()
        self.kube.stop_watches()

    def stop(self, timeout: float = STOP_TIMEOUT + 2) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def _register(self, lifeline: NodeLifeline) -> bool:
        while not self._stopping.is_set():
            try:
                lifeline.register()
                return True
            except Exception as error:
                log.warning("cannot register node %s yet: %s", self.config.node_name, error)
                self._stopping.wait(RETRY_SECONDS)
        return False

    def _stop_workers(self) -> None:
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.shutdown()
        for worker in workers:
            worker.join(STOP_TIMEOUT)
        log.info("node agent stopped (%d pod workers shut down)", len(workers))

    # -- pods ------------------------------------------------------------------------
    def _watch_pods(self) -> None:
        selector = f"spec.nodeName={self.config.node_name}"
        version: str | None = None
        while not self._stopping.is_set():
            try:
                version = version or self._relist(selector)
                version = self._watch(selector, version)
            except Exception as error:
                if self._stopping.is_set():
                    break
                if status_of(error) != 410:
                    log.warning("pod watch failed: %s", error)
                version = None
                self._stopping.wait(RETRY_SECONDS)

    def _relist(self, selector: str) -> str:
        listing = self.kube.get("/api/v1/pods", fieldSelector=selector)
        pods = listing.get("items") or []
        present = {pod["metadata"]["uid"] for pod in pods}
        with self._lock:
            vanished = [w for uid, w in self._workers.items() if uid not in present]
            self._finished &= present
            leftovers = [
                d
                for uid, d in layout.pod_dirs(self.config.state_dir).items()
                if uid not in present and uid not in self._workers
            ]
        for worker in vanished:
            worker.gone()
        for directory in leftovers:
            layout.remove(directory)
        for pod in pods:
            self._dispatch("ADDED", pod)
        return str(listing["metadata"]["resourceVersion"])

    def _watch(self, selector: str, version: str) -> str | None:
        """Follow the watch from `version`; the version to resume from (None: re-list)."""
        query = {"fieldSelector": selector, "resourceVersion": version, "allowWatchBookmarks": "true"}
        for event in self.kube.watch("/api/v1/pods", query, WATCH_SECONDS):
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                log.info("pod watch ended: %s", obj.get("message"))
                return None
            version = obj["metadata"]["resourceVersion"]
            if kind != "BOOKMARK":
                self._dispatch(str(kind), obj)
            if self._stopping.is_set():
                break
        return version

    def _dispatch(self, kind: str, pod: Mapping[str, Any]) -> None:
        metadata = pod["metadata"]
        uid = metadata["uid"]
        finalize = remove = False
        with self._lock:
            worker = self._workers.get(uid)
            if kind == "DELETED":
                self._workers.pop(uid, None)
                self._finished.discard(uid)
                if worker is not None:
                    worker.gone()  # its directory goes when it has exited (_worker_exited)
                remove = worker is None
            elif worker is not None:
                worker.update(pod)
            elif uid in self._finished or is_terminal(pod):
                self._finished.add(uid)
                finalize = _awaits_final_delete(pod)
            elif not self._stopping.is_set():
                self._workers[uid] = PodWorker(self._context, pod).start()
        if remove:
            layout.remove(layout.pod_dir(self.config.state_dir, metadata["namespace"], metadata["name"], uid))
        if finalize:
            final_delete(self.kube, pod)

    def _worker_exited(self, worker: PodWorker) -> None:
        with self._lock:
            # Deleted while it ran: the DELETED event took it out, or a re-list found it gone.
            deleted = self._workers.get(worker.uid) is not worker or worker.is_gone
            if self._workers.get(worker.uid) is worker:
                del self._workers[worker.uid]
            if not deleted:
                self._finished.add(worker.uid)
            pod = worker.pod
        if deleted:
            layout.remove(worker.directory)
            return
        if not worker.finalized and _awaits_final_delete(pod) and not self._stopping.is_set():
            final_delete(self.kube, pod)


def _awaits_final_delete(pod: Mapping[str, Any]) -> bool:
    metadata = pod["metadata"]
    return bool(metadata.get("deletionTimestamp")) and metadata.get("deletionGracePeriodSeconds") != 0
