"""Heartbeat tracking at scale: many live WorkflowRuns, some of whose runners stop.

On the local control plane, with the real operator (as a separate process, SQLite
index): create N runs, keep every runner heartbeating, then stop K of them and watch
how long after its threshold (stored last heartbeat + timeout) each is flagged
Disconnected. Prints the delay percentiles, false alarms, and the operator's CPU time
and peak RSS over the whole run.

    .venv/bin/python benchmarks/heartbeats.py --runs 2000 --stop 200 --timeout 60 --interval 20
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from localcluster.controlplane import ControlPlane
from localcluster.repo import use_repo
from localcluster.s3server import S3Server
from localcluster.system import install_crds
from localcluster.tracker import Operator, install_rbac

use_repo(Path(__file__).resolve().parent.parent)  # the benchmarks live in the checkout

NAMESPACE = "bench"
RUNS_PATH = f"/apis/tracker.dev/v1alpha1/namespaces/{NAMESPACE}/workflowruns"


def http_client(kubeconfig: Path, directory: Path) -> httpx.AsyncClient:
    config = yaml.safe_load(kubeconfig.read_text())
    user = config["users"][0]["user"]
    cluster = config["clusters"][0]["cluster"]
    files = {}
    for name, key in (
        ("cert", "client-certificate-data"),
        ("key", "client-key-data"),
        ("ca", "certificate-authority-data"),
    ):
        files[name] = directory / f"bench.{name}"
        files[name].write_bytes(base64.b64decode(user.get(key) or cluster.get(key)))
    import ssl

    context = ssl.create_default_context(cafile=str(files["ca"]))
    context.load_cert_chain(str(files["cert"]), str(files["key"]))
    return httpx.AsyncClient(
        base_url=cluster["server"], verify=context, timeout=60, limits=httpx.Limits(max_connections=32)
    )


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def heartbeat(client: httpx.AsyncClient, name: str, extra: dict[str, Any] | None = None) -> str:
    when = stamp(datetime.now(UTC))
    response = await client.patch(
        f"{RUNS_PATH}/{name}/status",
        content=json.dumps({"status": {"lastHeartbeatTime": when, **(extra or {})}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    response.raise_for_status()
    return when


async def create_runs(client: httpx.AsyncClient, names: list[str], timeout: int) -> None:
    semaphore = asyncio.Semaphore(16)

    async def create(name: str) -> None:
        async with semaphore:
            body = {
                "apiVersion": "tracker.dev/v1alpha1",
                "kind": "WorkflowRun",
                "metadata": {"name": name},
                "spec": {"runName": name, "owner": "bench", "heartbeatTimeoutSeconds": timeout},
            }
            (await client.post(RUNS_PATH, json=body)).raise_for_status()
            await heartbeat(client, name, {"phase": "Running"})

    await asyncio.gather(*(create(n) for n in names))


async def keep_beating(
    client: httpx.AsyncClient,
    names: list[str],
    interval: float,
    alive: set[str],
    inflight: dict[str, asyncio.Task[str]],
) -> None:
    """Each live run beats every `interval` s, spread evenly over the interval (pacing,
    not synchronisation: this is the load generator)."""
    spacing = interval / len(names)
    next_at = time.monotonic()
    while True:
        for name in names:
            if name in alive:
                inflight[name] = asyncio.create_task(heartbeat(client, name))
            next_at += spacing
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def watch_states(client: httpx.AsyncClient, resource_version: str, seen: dict[str, tuple[str, float]]) -> None:
    params = {"watch": "1", "resourceVersion": resource_version, "allowWatchBookmarks": "false"}
    async with client.stream("GET", RUNS_PATH, params=params, timeout=None) as stream:
        async for line in stream.aiter_lines():
            if not line:
                continue
            obj = json.loads(line)["object"]
            state = (obj.get("status") or {}).get("state")
            name = obj["metadata"]["name"]
            if seen.get(name, ("",))[0] != state:
                seen[name] = (state, time.time())


def proc_stats(pid: int) -> tuple[float, int]:
    """CPU seconds (user+system) and peak RSS in bytes of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = 100  # os.sysconf("SC_CLK_TCK") on Linux
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    hwm = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM"))
    return cpu, int(hwm.split()[1]) * 1024


async def measure(args: argparse.Namespace, plane: ControlPlane, operator: Operator, workdir: Path) -> None:
    client = http_client(plane.mint_user("bench", ["system:masters"]), workdir)
    names = [f"run-{i:05d}" for i in range(args.runs)]
    started = time.monotonic()
    await create_runs(client, names, args.timeout)
    print(f"created {args.runs} runs in {time.monotonic() - started:.1f}s")
    listing = (await client.get(RUNS_PATH)).json()
    seen: dict[str, tuple[str, float]] = {}
    watcher = asyncio.create_task(watch_states(client, listing["metadata"]["resourceVersion"], seen))
    alive: set[str] = set(names)
    inflight: dict[str, asyncio.Task[str]] = {}
    beater = asyncio.create_task(keep_beating(client, names, args.interval, alive, inflight))
    deadline = time.monotonic() + 300
    while sum(1 for n in names if seen.get(n, ("",))[0] == "Running") < args.runs and time.monotonic() < deadline:
        await asyncio.sleep(1)
    running = sum(1 for n in names if seen.get(n, ("",))[0] == "Running")
    print(
        f"{running}/{args.runs} runs Running after {time.monotonic() - started:.1f}s; heartbeats every "
        f"{args.interval:g}s ({args.runs / args.interval:.0f} patches/s)"
    )
    cpu_before, _ = proc_stats(operator.process.pid)  # type: ignore[union-attr]
    window_start = time.monotonic()

    stopped = names[:: max(1, args.runs // args.stop)][: args.stop]
    for name in stopped:
        alive.discard(name)
    await asyncio.gather(*(inflight[n] for n in stopped if n in inflight), return_exceptions=True)
    thresholds = {}
    for name in stopped:
        obj = (await client.get(f"{RUNS_PATH}/{name}")).json()
        beat = datetime.fromisoformat(obj["status"]["lastHeartbeatTime"].replace("Z", "+00:00"))
        thresholds[name] = (beat + timedelta(seconds=args.timeout)).timestamp()
    wait_until = max(thresholds.values()) + 30
    while time.time() < wait_until and not all(seen.get(n, ("",))[0] == "Disconnected" for n in stopped):
        await asyncio.sleep(0.5)
    window = time.monotonic() - window_start
    cpu_after, peak_rss = proc_stats(operator.process.pid)  # type: ignore[union-attr]
    beater.cancel()
    watcher.cancel()
    await asyncio.gather(beater, watcher, *inflight.values(), return_exceptions=True)

    delays = sorted(seen[n][1] - thresholds[n] for n in stopped if seen.get(n, ("",))[0] == "Disconnected")
    false_alarms = [n for n in names if n in alive and seen.get(n, ("",))[0] == "Disconnected"]
    print(f"stopped {len(stopped)} runners; flagged Disconnected: {len(delays)}; false alarms: {len(false_alarms)}")
    if delays:
        p99 = delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))]
        print(
            f"delay from threshold to Disconnected seen by a watcher: p50 {statistics.median(delays):.2f}s, "
            f"p99 {p99:.2f}s, max {delays[-1]:.2f}s"
        )
    print(
        f"operator CPU: {cpu_after - cpu_before:.1f}s over {window:.0f}s "
        f"({100 * (cpu_after - cpu_before) / window:.0f}% of one core); peak RSS {peak_rss / 2**20:.0f} MiB"
    )
    await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--stop", type=int, default=200)
    parser.add_argument("--timeout", type=int, default=60, help="heartbeatTimeoutSeconds of every run")
    parser.add_argument("--interval", type=float, default=20, help="seconds between a runner's heartbeats")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        plane = ControlPlane(state_dir=workdir / "controlplane").start()
        s3 = S3Server(log_dir=workdir).start()
        try:
            install_crds(plane)
            install_rbac(plane)
            plane.kubectl("create", "namespace", NAMESPACE)
            operator = Operator(
                plane=plane, s3=s3, state_dir=workdir, database_url=f"sqlite:///{workdir / 'tracker.db'}"
            ).start()
            try:
                asyncio.run(measure(args, plane, operator, workdir))
            finally:
                operator.stop()
        finally:
            s3.stop()
            plane.stop()


if __name__ == "__main__":
    main()
