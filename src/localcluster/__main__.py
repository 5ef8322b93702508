"""`localcluster up | down | env`: the local system for development and demos.

`up` starts a real control plane, the node agent, the S3 server, the tracker operator
and the read API detached from the shell, installs the CRDs, seeds demo runs and
prints how to look at them; `env` prints
the shell exports that point kubectl and the AWS tools at it; `down` stops it all.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from localcluster import demo, system


def _state_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("TRACKER_STATE_DIR") or system.DEFAULT_STATE_DIR).resolve()


def cmd_up(state_dir: Path) -> int:
    try:
        record, plane, s3 = system.up(state_dir)
    except system.AlreadyRunning as error:
        print(f"localcluster: {error}", file=sys.stderr)
        return 1
    runs = demo.seed(plane, s3)
    print(f"Local system is up (state in {state_dir}).")
    print(f"  Kubernetes API: {plane.server}   S3: {record.s3_endpoint}")
    print(f"  Read API: {record.api_url}/api/v1/runs   (Swagger UI: {record.api_url}/api/v1/swagger-ui)")
    print(f"  Demo runs in namespace '{demo.NAMESPACE}': {', '.join(runs)}")
    print("\nPoint your shell at it:")
    print(f"  eval \"$({sys.argv[0] if sys.argv[0].endswith('localcluster') else 'localcluster'} env)\"")
    print("\nThen try:")
    print(f"  kubectl get wfr -n {demo.NAMESPACE}")
    print("  kubectl get tracker -A")
    print(f"  tracker -n {demo.NAMESPACE} describe run {runs[0]}")
    print(f"  tracker outputs info s3://{demo.BUCKET}/runs/{runs[1]}/")
    print(f"  tracker -n {demo.NAMESPACE} outputs delete {runs[2]} --wait")
    print(f"  aws s3 ls --recursive s3://{demo.BUCKET}/   # with awscli installed")
    print("\nStop it with: localcluster down")
    return 0


def cmd_down(state_dir: Path) -> int:
    if system.down(state_dir):
        print("Local system stopped.")
    else:
        print(f"No local system is recorded in {state_dir}.")
    return 0


def cmd_env(state_dir: Path) -> int:
    record = system.load_record(state_dir)
    if record is None:
        print(f"localcluster: no local system in {state_dir}: run `localcluster up`", file=sys.stderr)
        return 1
    print(record.shell_exports())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcluster", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "env"])
    parser.add_argument("--state-dir", help="where state lives (default: .state/local in the repo)")
    args = parser.parse_args(argv)
    state_dir = _state_dir(args.state_dir)
    return {"up": cmd_up, "down": cmd_down, "env": cmd_env}[args.command](state_dir)


if __name__ == "__main__":
    sys.exit(main())
