"""Command line: `python -m localcluster.nodeagent --kubeconfig PATH --node-name NAME
--state-dir DIR [--image NAME]`. Logs to stdout; SIGTERM or SIGINT stop it cleanly,
killing every pod process first."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from localcluster.nodeagent.agent import AgentConfig, NodeAgent
from localcluster.nodeagent.images import DEFAULT_IMAGE


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m localcluster.nodeagent", description=__doc__)
    parser.add_argument("--kubeconfig", type=Path, required=True, help="credentials of the node")
    parser.add_argument("--node-name", required=True, help="the Node this agent plays")
    parser.add_argument("--state-dir", type=Path, required=True, help="pod logs, pids, working dirs")
    parser.add_argument("--image", default=DEFAULT_IMAGE, help="the only image repository it runs")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO, format="%(asctime)s %(levelname)s [%(threadName)s] %(message)s"
    )
    args.state_dir.mkdir(parents=True, exist_ok=True)
    agent = NodeAgent(
        AgentConfig(
            kubeconfig=args.kubeconfig, node_name=args.node_name, state_dir=args.state_dir.resolve(), image=args.image
        )
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: agent.request_stop())
    agent.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
