"""The node agent: a small kubelet stand-in that runs pods as local processes.

There is no container runtime on this machine, so the agent plays the kubelet for one
Node: it registers the Node and renews its Lease, watches the pods bound to it, runs
each container of the project image as a process in the project's environment (env
from Secrets, ConfigMaps and the downward API, a bound service-account token through
KUBECONFIG), reports pod status as the kubelet does and finalises deleted pods. The
real Job controller can then run, complete and retry batch/v1 Jobs.

Run it with `python -m localcluster.nodeagent --kubeconfig PATH --node-name NAME
--state-dir DIR [--image NAME]`, from Python with `NodeAgent(AgentConfig(...)).start()`,
or as a managed child process with `agent_process(...)`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from localcluster.nodeagent.agent import AgentConfig, NodeAgent
from localcluster.nodeagent.images import DEFAULT_IMAGE
from localcluster.nodeagent.layout import find_pod_dir, log_path, pid_path, pod_dir
from localcluster.processes import ManagedProcess

__all__ = [
    "DEFAULT_IMAGE",
    "AgentConfig",
    "NodeAgent",
    "agent_process",
    "find_pod_dir",
    "log_path",
    "pid_path",
    "pod_dir",
]


def agent_process(
    *,
    kubeconfig: Path,
    node_name: str,
    state_dir: Path,
    image: str = DEFAULT_IMAGE,
    log_file: Path | None = None,
    tied_to_parent: bool = True,
) -> ManagedProcess:
    """The agent as a (not yet started) child process, logging to `state_dir/nodeagent.log`.

    It runs with this interpreter, so pod processes get this virtualenv on PATH.
    """
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["PYTHONUNBUFFERED"] = "1"
    argv = [
        sys.executable,
        "-m",
        "localcluster.nodeagent",
        "--kubeconfig",
        str(kubeconfig),
        "--node-name",
        node_name,
        "--state-dir",
        str(state_dir),
        "--image",
        image,
    ]
    return ManagedProcess(
        name=f"nodeagent-{node_name}",
        argv=argv,
        log_path=log_file or state_dir / "nodeagent.log",
        env=env,
        tied_to_parent=tied_to_parent,
    )
