"""`localcluster run | up | down | env`: the local system for development and demos.

`run` (what `scripts/run` calls) starts a real control plane, the node agent, the S3
server, the tracker operator and the read API, seeds demo runs in every state, prints
where to look, keeps the demo alive and stops everything on Ctrl-C (or SIGTERM).
`up` does the same detached from the shell and returns once the demo has settled;
`env` prints the shell exports that point kubectl, tracker and the AWS tools at it;
`down` stops what `up` started. `run` and `up` work on the checkout named by `--repo`
(default `$LOCALCLUSTER_REPO`): its CRDs, RBAC, admission policy and build scripts.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from localcluster import demo, system
from localcluster.processes import DeadlineExceeded, wait_until
from localcluster.repo import ENV as REPO_ENV
from localcluster.repo import RepoNotGiven, repo_root, use_repo
from localcluster.tracker import BIN_DIR
from tracker.api import paths

TICK_SECONDS = 1.0
SETTLE_TIMEOUT = 300.0


def default_state_dir() -> Path:
    """`.state/local` in the checkout when it is named, else in the working directory."""
    return (Path(os.environ.get(REPO_ENV) or ".") / ".state" / "local").resolve()


def _state_dir(value: str | None) -> Path:
    return Path(value or os.environ.get("TRACKER_STATE_DIR") or default_state_dir()).resolve()


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it lies inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def localcluster_command(command: str, state_dir: Path) -> str:
    """`localcluster COMMAND` for the system in `state_dir`, as a shell line."""
    argv = [_shown(BIN_DIR / "localcluster"), command]
    if state_dir != default_state_dir():
        argv += ["--state-dir", str(state_dir)]
    return shlex.join(argv)


def banner(record: system.SystemRecord, server: str, state_dir: Path, *, foreground: bool) -> str:
    """URLs, the demo runs and what they settle into, and commands to try."""
    api = record.api_url
    width = max(len(r.run_name) for r in demo.RUNS_IN_ORDER)
    lines = [
        f"Workflow Tracker is running locally (state and logs in {state_dir}).",
        "",
        f"  Kubernetes API  {server}",
        f"  S3 (moto)       {record.s3_endpoint}   bucket {demo.BUCKET}",
        f"  Read API        {api}{paths.API}{paths.RUNS}",
        f"  Swagger UI      {api}{paths.SWAGGER_UI}",
        f"  Runs page       {api}/runs",
        f"  Run Detail      {api}/runs/{demo.LIVE.run_name}   (any run name)",
        f"  Nextflow        -with-tower {api}/tower   (TOWER_ACCESS_TOKEN: a service account's token)",
        "",
        f"Demo runs in namespace '{demo.NAMESPACE}' (all in their states within about a minute):",
        *(f"  {r.run_name:<{width}}  {r.state:<12}  {r.story}" for r in demo.RUNS_IN_ORDER),
        "",
        "In another shell:",
        f'  eval "$({localcluster_command("env", state_dir)})"   # KUBECONFIG, PATH, AWS_*, TRACKER_API_URL',
        *(f"  {command:<58} # {what}" for command, what in demo.try_commands()),
        "",
        "Press Ctrl-C to stop everything."
        if foreground
        else f"Stop it with: {localcluster_command('down', state_dir)}",
    ]
    return "\n".join(lines)


def cmd_run(state_dir: Path) -> int:
    """Foreground: start, seed, print, keep the demo alive until Ctrl-C or SIGTERM, stop."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    # Ctrl-C and SIGTERM both stop it, also when started in the background (which ignores SIGINT).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)
    local = system.LocalSystem(state_dir, detached=False)
    print("Starting the local system (control plane, node agent, S3, operator, read API)...")
    try:
        _run(local)
    except system.AlreadyRunning as error:
        print(f"localcluster: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        code = 0
    except Exception as error:
        print(f"localcluster: {error}", file=sys.stderr)
        code = 1
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)  # a second Ctrl-C must not cut the teardown short
    print("\nStopping...")
    local.stop()
    print("Local system stopped: no process left, state record removed.")
    return code


def _seed_demo(local: system.LocalSystem, record: system.SystemRecord, *, foreground: bool) -> demo.Demo:
    """Seed the demo on the started system, print the banner; the demo's driver."""
    if local.plane is None or local.s3 is None:
        raise RuntimeError("the local system has not started: no control plane or S3 server to seed")
    driver = demo.Demo(local.plane, local.s3, record.api_url)
    driver.seed()
    print(banner(record, local.plane.server, local.state_dir, foreground=foreground), end="\n\n")
    return driver


def _run(local: system.LocalSystem) -> None:
    driver = _seed_demo(local, local.start(), foreground=True)
    while True:
        time.sleep(TICK_SECONDS)
        local.check_running()
        driver.tick()


def cmd_up(state_dir: Path) -> int:
    """Detached: start, seed, print, drive the demo until it settles, return."""
    local = system.LocalSystem(state_dir, detached=True)
    try:
        record = local.start()
    except system.AlreadyRunning as error:
        print(f"localcluster: {error}", file=sys.stderr)
        return 1
    driver = _seed_demo(local, record, foreground=False)
    try:
        wait_until(driver.tick, timeout=SETTLE_TIMEOUT, what="the demo runs to settle", interval=TICK_SECONDS)
    except (DeadlineExceeded, KeyboardInterrupt):
        print("localcluster: stopped waiting for the demo to settle; the system keeps running", file=sys.stderr)
        return 1
    print(
        f"Nobody sends heartbeats once `up` returns: {demo.LIVE.run_name} and {demo.STALLED.run_name} "
        "turn Disconnected within 5 minutes (`localcluster run` keeps them alive)."
    )
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
        print(f"localcluster: no local system in {state_dir}: run `localcluster run` (or `up`)", file=sys.stderr)
        return 1
    print(record.shell_exports())
    return 0


COMMANDS = {"run": cmd_run, "up": cmd_up, "down": cmd_down, "env": cmd_env}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcluster", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=list(COMMANDS))
    parser.add_argument("--repo", help=f"the Workflow Tracker checkout (default: ${REPO_ENV}); run and up need it")
    parser.add_argument(
        "--state-dir", help="where state lives (default: $TRACKER_STATE_DIR, else .state/local in the checkout)"
    )
    args = parser.parse_args(argv)
    try:
        if args.repo:
            use_repo(args.repo)
        if args.command in ("run", "up"):
            repo_root()
    except RepoNotGiven as error:
        print(f"localcluster: {error}", file=sys.stderr)
        return 2
    return COMMANDS[args.command](_state_dir(args.state_dir))


if __name__ == "__main__":
    sys.exit(main())
