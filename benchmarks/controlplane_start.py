"""Warm start time of the local control plane (binaries already cached).

Times `ControlPlane.start()` (etcd, kube-apiserver ready, kube-controller-manager and
kube-scheduler running, default service account created) and the node agent until its
Node is Ready, over a few rounds.

    .venv/bin/python benchmarks/controlplane_start.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from localcluster.binaries import control_plane_binaries
from localcluster.controlplane import NODE_NAME, ControlPlane
from localcluster.nodeagent import agent_process
from localcluster.processes import wait_until
from localcluster.repo import use_repo

use_repo(Path(__file__).resolve().parent.parent)  # the benchmarks live in the checkout


def node_ready(plane: ControlPlane) -> bool:
    result = plane.kubectl(
        "get", "node", NODE_NAME, "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}', check=False
    )
    return result.stdout == "True"


def one_round(root: Path) -> tuple[float, float]:
    started = time.monotonic()
    plane = ControlPlane(state_dir=root / "controlplane").start()
    control_plane_seconds = time.monotonic() - started
    agent = agent_process(kubeconfig=plane.node_kubeconfig, node_name=NODE_NAME, state_dir=root / "nodeagent").start()
    try:
        wait_until(lambda: node_ready(plane), timeout=60, what="node Ready")
        return control_plane_seconds, time.monotonic() - started
    finally:
        agent.stop()
        plane.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    control_plane_binaries()  # build (or find) first: this measures warm starts only
    results = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(one_round(Path(tmp)))
    planes, nodes = zip(*results, strict=True)
    print(
        f"control plane ready: median {statistics.median(planes):.1f}s "
        f"(min {min(planes):.1f}s, max {max(planes):.1f}s) over {args.rounds} rounds"
    )
    print(f"plus node Ready:     median {statistics.median(nodes):.1f}s (min {min(nodes):.1f}s, max {max(nodes):.1f}s)")


if __name__ == "__main__":
    main()
