"""Heartbeat tracking at scale: many live WorkflowRuns, some of whose runners stop.

On the local control plane, with the real operator (as a separate process, SQLite
index): create N runs at a steady rate, each runner reporting Running at once and then
heartbeating every `--interval` s; measure how long each run takes from its creation
to `state: Running`; after a steady stretch stop K runners and measure how long after
its threshold (stored last heartbeat + timeout) each is flagged Disconnected. Prints
the percentiles, false alarms (a live run flagged), the operator's peak RSS and CPU
per heartbeat, and where the machine's CPU went (apiserver, etcd, the load generator,
the operator, everything else) with the load average.

    .venv/bin/python benchmarks/heartbeats.py --runs 10000 --interval 30 --timeout 90 --stop 100
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import os
import ssl
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from localcluster.controlplane import ControlPlane
from localcluster.repo import use_repo
from localcluster.s3server import S3Server
from localcluster.system import install_crds
from localcluster.tracker import Operator, install_rbac

use_repo(Path(__file__).resolve().parent.parent)  # the benchmarks live in the checkout

NAMESPACE = "bench"
RUNS_PATH = f"/apis/tracker.dev/v1alpha1/namespaces/{NAMESPACE}/workflowruns"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Load:
    """What the load generator did and saw."""

    created: dict[str, float] = field(default_factory=dict)
    running_at: dict[str, float] = field(default_factory=dict)
    seen_at: dict[str, float] = field(default_factory=dict)  # the watcher's first event of the run
    reported_at: dict[str, float] = field(default_factory=dict)  # the runner's phase Running seen
    state: dict[str, tuple[str, float]] = field(default_factory=dict)
    alive: set[str] = field(default_factory=set)
    stopped: set[str] = field(default_factory=set)
    false_alarms: set[str] = field(default_factory=set)
    beats: int = 0
    failures: collections.Counter[str] = field(default_factory=collections.Counter)


def session(kubeconfig: Path, directory: Path) -> tuple[aiohttp.ClientSession, str]:
    config = yaml.safe_load(kubeconfig.read_text())
    user, cluster = config["users"][0]["user"], config["clusters"][0]["cluster"]
    files = {}
    for name, key in (
        ("cert", "client-certificate-data"),
        ("key", "client-key-data"),
        ("ca", "certificate-authority-data"),
    ):
        files[name] = directory / f"bench.{name}"
        files[name].write_bytes(base64.b64decode(user.get(key) or cluster.get(key)))
    context = ssl.create_default_context(cafile=str(files["ca"]))
    context.load_cert_chain(str(files["cert"]), str(files["key"]))
    connector = aiohttp.TCPConnector(ssl=context, limit=64)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)), cluster["server"]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_body(name: str, timeout: int) -> dict[str, Any]:
    """A WorkflowRun as a launcher creates it (`heartbeatTimeoutSeconds` = `timeout`)."""
    return {
        "apiVersion": "tracker.dev/v1alpha1",
        "kind": "WorkflowRun",
        "metadata": {"name": name},
        "spec": {"runName": name, "owner": "bench", "heartbeatTimeoutSeconds": timeout},
    }


async def served_listing(http: aiohttp.ClientSession, server: str) -> dict[str, Any]:
    """The runs' listing, once the API server serves it: a fresh CRD's storage may
    still be initialising (429) for a while."""
    deadline = time.monotonic() + 60
    while True:
        async with http.get(f"{server}{RUNS_PATH}") as response:
            listing: dict[str, Any] = await response.json()
        if response.status == 200:
            return listing
        if time.monotonic() > deadline:
            raise SystemExit(f"listing the runs: {response.status} {listing}")
        await asyncio.sleep(1)


class Generator:
    def __init__(self, http: aiohttp.ClientSession, server: str, args: argparse.Namespace) -> None:
        self.http, self.server, self.args, self.load = http, server, args, Load()
        self.schedule: collections.deque[tuple[float, str]] = collections.deque()
        self.inflight: set[asyncio.Task[None]] = set()
        self.beating: dict[str, asyncio.Task[None]] = {}

    async def _patch(self, name: str, status: dict[str, Any]) -> bool:
        try:
            async with self.http.patch(
                f"{self.server}{RUNS_PATH}/{name}/status",
                data=json.dumps({"status": status}),
                headers={"Content-Type": "application/merge-patch+json"},
            ) as response:
                await response.read()
                if response.status != 200:
                    self.load.failures[f"heartbeat {response.status}"] += 1
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError) as error:
            self.load.failures[f"heartbeat {type(error).__name__}"] += 1
            return False

    async def beat(self, name: str, extra: dict[str, Any] | None = None) -> None:
        if await self._patch(name, {"lastHeartbeatTime": stamp(datetime.now(UTC)), **(extra or {})}):
            self.load.beats += 1

    def spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)
        return task

    async def create(self, name: str) -> None:
        try:
            async with self.http.post(f"{self.server}{RUNS_PATH}", json=run_body(name, self.args.timeout)) as response:
                await response.read()
                if response.status != 201:
                    self.load.failures[f"create {response.status}"] += 1
                    return
        except (aiohttp.ClientError, TimeoutError) as error:
            self.load.failures[f"create {type(error).__name__}"] += 1
            return
        self.load.created[name] = time.time()
        self.load.alive.add(name)
        await self.beat(name, {"phase": "Running"})  # the runner starts and reports Running
        self.schedule.append((time.monotonic() + self.args.interval, name))

    async def create_all(self, names: list[str]) -> None:
        """`--create-rate` new runs a second (pacing, not synchronisation: the load)."""
        start = time.monotonic()
        for i, name in enumerate(names):
            await asyncio.sleep(max(0.0, start + i / self.args.create_rate - time.monotonic()))
            self.spawn(self.create(name))

    async def keep_beating(self) -> None:
        """Every live runner beats every `--interval` s after its previous beat."""
        while True:
            now = time.monotonic()
            while self.schedule and self.schedule[0][0] <= now:
                due, name = self.schedule.popleft()
                if name in self.load.alive:
                    self.beating[name] = self.spawn(self.beat(name))
                    self.schedule.append((due + self.args.interval, name))
            await asyncio.sleep(0.02 if not self.schedule else max(0.0, min(0.2, self.schedule[0][0] - now)))

    async def watch(self, resource_version: str) -> None:
        """Every state change of every run, as a watcher sees it (reconnecting as needed)."""
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        while True:
            params = {"watch": "1", "resourceVersion": resource_version, "timeoutSeconds": "3600"}
            try:
                async with self.http.get(f"{self.server}{RUNS_PATH}", params=params, timeout=timeout) as response:
                    while line := await response.content.readline():
                        if line.strip():
                            resource_version = self._seen(json.loads(line)["object"]) or resource_version
            except (aiohttp.ClientError, ValueError) as error:
                self.load.failures[f"watch {type(error).__name__}"] += 1

    def _seen(self, obj: dict[str, Any]) -> str | None:
        status, name, now = obj.get("status") or {}, obj["metadata"]["name"], time.time()
        state = status.get("state")
        self.load.seen_at.setdefault(name, now)
        if status.get("phase") == "Running":
            self.load.reported_at.setdefault(name, now)
        if self.load.state.get(name, ("",))[0] != state:
            self.load.state[name] = (state, now)
            if state == "Running":
                self.load.running_at.setdefault(name, now)
            elif state == "Disconnected" and name not in self.load.stopped:
                self.load.false_alarms.add(name)
        return obj["metadata"].get("resourceVersion")


def server_side_convergence(items: list[dict[str, Any]]) -> list[float]:
    """Per run: the time of the operator's status write (the managedFields entry that
    owns `status.state`, whole seconds) minus its creationTimestamp, as the API server
    recorded them (no client-side lag)."""
    delays = []
    for item in items:
        created = datetime.fromisoformat(item["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
        for entry in item["metadata"].get("managedFields") or ():
            if entry.get("subresource") == "status" and "f:state" in entry.get("fieldsV1", {}).get("f:status", {}):
                delays.append((datetime.fromisoformat(entry["time"].replace("Z", "+00:00")) - created).total_seconds())
    return delays


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle (all processes), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICKS


def peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmHWM")).split()[1]) * 1024


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    values = sorted(values)
    p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
    return f"p50 {statistics.median(values):.2f}s, p99 {p99:.2f}s, max {values[-1]:.2f}s"


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {
        **{name: cpu_seconds(pid) for name, pid in pids.items()},
        "load generator": sum(os.times()[:2]),
        "machine": machine_busy_seconds(),
    }


async def measure(args: argparse.Namespace, plane: ControlPlane, operator: Operator, workdir: Path) -> None:
    http, server = session(plane.mint_user("bench", ["system:masters"]), workdir)
    generator = Generator(http, server, args)
    load = generator.load
    pids = {p.name: p.pid for p in plane.processes} | {"operator": operator.process.pid}  # type: ignore[union-attr]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    listing = await served_listing(http, server)
    watcher = asyncio.create_task(generator.watch(listing["metadata"]["resourceVersion"]))
    beater = asyncio.create_task(generator.keep_beating())
    names = [f"run-{i:05d}" for i in range(args.runs)]
    started = time.monotonic()
    await generator.create_all(names)
    last_created = time.monotonic()
    print(f"created {args.runs} runs in {last_created - started:.1f}s ({args.create_rate:g}/s)")
    while len(load.running_at) < len(load.created) and time.monotonic() < last_created + 120:
        await asyncio.sleep(0.5)
    converged = [load.running_at[n] - load.created[n] for n in load.created if n in load.running_at]
    within = sum(1 for c in converged if c <= 60)
    print(
        f"{len(converged)}/{len(load.created)} runs reached state Running; creation -> Running: "
        f"{percentiles(converged)}; within 60 s: {within}/{len(load.created)}"
    )
    seen = [load.seen_at[n] - load.created[n] for n in load.created if n in load.seen_at]
    reported = [load.reported_at[n] - load.created[n] for n in load.created if n in load.reported_at]
    async with http.get(f"{server}{RUNS_PATH}", timeout=aiohttp.ClientTimeout(total=300)) as response:
        items = (await response.json())["items"]
    server_side = server_side_convergence(items)
    states = collections.Counter((i.get("status") or {}).get("state") for i in items)
    print(
        f"  as the API server recorded it (operator's state write - creationTimestamp, whole seconds, "
        f"{len(server_side)} runs): {percentiles(server_side)}; states now: {dict(states)}"
    )
    print(
        f"  creation -> its first watch event: {percentiles(seen)}; -> phase Running reported: {percentiles(reported)}"
    )
    print(f"load average after the ramp: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    # Steady state: every runner beats; then K of them stop.
    await asyncio.sleep(max(0.0, last_created + args.interval - time.monotonic()))  # every run beats on schedule
    before, beats_before, window_start = cpu_snapshot(pids), load.beats, time.monotonic()
    await asyncio.sleep(args.steady)
    stopped = names[:: max(1, args.runs // args.stop)][: args.stop]
    load.stopped.update(stopped)
    load.alive.difference_update(stopped)
    # Beats already sent to the stopped runners land first.
    await asyncio.gather(*(generator.beating[n] for n in stopped if n in generator.beating), return_exceptions=True)
    thresholds = {}
    for name in stopped:
        async with http.get(f"{server}{RUNS_PATH}/{name}", timeout=aiohttp.ClientTimeout(total=300)) as response:
            obj = await response.json()
        beat = datetime.fromisoformat(obj["status"]["lastHeartbeatTime"].replace("Z", "+00:00"))
        thresholds[name] = (beat + timedelta(seconds=args.timeout)).timestamp()
    wait_until = max(thresholds.values()) + 30
    while time.time() < wait_until and not all(load.state.get(n, ("",))[0] == "Disconnected" for n in stopped):
        await asyncio.sleep(0.5)
    after, beats, window = cpu_snapshot(pids), load.beats - beats_before, time.monotonic() - window_start
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    beater.cancel()
    watcher.cancel()
    await asyncio.gather(beater, watcher, *generator.inflight, return_exceptions=True)

    delays = [load.state[n][1] - thresholds[n] for n in stopped if load.state.get(n, ("",))[0] == "Disconnected"]
    print(
        f"stopped {len(stopped)} runners; flagged Disconnected: {len(delays)}; false alarms: {len(load.false_alarms)}"
    )
    print(f"delay from threshold to Disconnected seen by a watcher: {percentiles(delays)}")
    print(
        f"steady window {window:.0f}s: {beats} heartbeats ({beats / window:.0f}/s), "
        f"failed requests: {dict(load.failures) or 0}"
    )
    used = {name: after[name] - before[name] for name in before}
    ours = sum(v for k, v in used.items() if k != "machine")
    print("CPU over the steady window (% of one core):")
    for name, seconds in sorted(used.items(), key=lambda item: -item[1]):
        if name != "machine":
            print(f"  {name}: {seconds:.1f}s ({100 * seconds / window:.0f}%)")
    print(
        f"  everything else on the machine: {used['machine'] - ours:.1f}s ({100 * (used['machine'] - ours) / window:.0f}%)"
    )
    print(f"  machine total: {used['machine']:.1f}s ({100 * used['machine'] / window:.0f}% of one core, of 200%)")
    per_beat = used["operator"] / beats if beats else float("nan")
    print(
        f"operator CPU per heartbeat: {1000 * per_beat:.2f} ms; operator peak RSS {peak_rss(pids['operator']) / 2**20:.0f} MiB"
    )
    await http.close()


@contextlib.contextmanager
def operator_on_plane(
    workdir: Path, database_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[ControlPlane, Operator]]:
    """A local control plane with the CRDs, RBAC and the bench namespace, and the real
    operator on it as its own process (index at `database_url`); all stopped after."""
    plane = ControlPlane(state_dir=workdir / "controlplane").start()
    s3 = S3Server(log_dir=workdir).start()
    try:
        install_crds(plane)
        install_rbac(plane)
        plane.kubectl("create", "namespace", NAMESPACE)
        operator = Operator(
            plane=plane, s3=s3, state_dir=workdir, database_url=database_url, extra_env=extra_env or {}
        ).start()
        try:
            yield plane, operator
        finally:
            operator.stop()
    finally:
        s3.stop()
        plane.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--stop", type=int, default=100, help="runners that stop after the steady stretch")
    parser.add_argument("--timeout", type=int, default=90, help="heartbeatTimeoutSeconds of every run")
    parser.add_argument("--interval", type=float, default=30, help="seconds between a runner's heartbeats")
    parser.add_argument("--create-rate", type=float, default=50, help="new runs a second")
    parser.add_argument("--steady", type=float, default=60, help="seconds of steady heartbeats before the stop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with operator_on_plane(workdir, f"sqlite:///{workdir / 'tracker.db'}") as (plane, operator):
            asyncio.run(measure(args, plane, operator, workdir))


if __name__ == "__main__":
    main()
