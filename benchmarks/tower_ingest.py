"""Task updates per second, acknowledgement latency and API server writes of the
Nextflow trace receiver under N concurrent simulated Nextflow runs.

    .venv/bin/python benchmarks/tower_ingest.py --runs 50 --duration 30
    .venv/bin/python benchmarks/tower_ingest.py --runs 50 --duration 60 --targets kubernetes

One script run measures each target in turn (`--targets`, default all three), each on
a fresh `tracker-api` process (uvicorn, one process; static-token auth; access logs off):

- `sqlite`: runs written to the index (`TRACKER_TOWER__RUNS=index`), a fresh SQLite
  file (WAL);
- `postgresql`: the same on a PostgreSQL server this script starts
  (`localcluster.postgres.PostgresServer`, with PostgreSQL's durable defaults: fsync
  and synchronous_commit on), or `--database-url`;
- `kubernetes`: runs written as WorkflowRuns (`TRACKER_TOWER__RUNS=kubernetes`) on a
  local control plane this script starts (`localcluster.controlplane.ControlPlane`,
  the CRDs from crds/), task rows in a fresh SQLite index. API server writes are
  counted from the API server's own `/metrics` (`apiserver_request_total` for the
  `workflowruns` resource, by verb and subresource), read before and after the
  progress window; no operator runs, so every write counted is the receiver's.

Each simulated run does what nf-tower does: create, begin, then once a second a
`PUT /trace/{id}/progress` with 100 task records (each task moving NEW -> SUBMITTED ->
RUNNING -> COMPLETED over successive batches, new task ids as tasks finish) and the
per-process counters. Real runs are independent, so each run ticks at its own phase
within the second (uniformly random, seeded), not all at the same instant. A call's
latency is from sending to the 2xx, which the receiver gives only after the task rows
are committed.

Printed per target: task updates/s acknowledged, p50/p99/max acknowledgement latency,
errors, server CPU (and the database server's, for PostgreSQL) in total and per 1,000
task updates, the load generator's own CPU (it shares the machine), the load average,
API server writes per run per minute (kubernetes), and each number against the aim
(>= 5,000 updates/s, p99 < 100 ms, a few status writes per run per minute).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]  # see api_load.py

import httpx  # noqa: E402

from localcluster.controlplane import ControlPlane  # noqa: E402
from localcluster.postgres import PostgresServer  # noqa: E402
from localcluster.repo import use_repo  # noqa: E402
from localcluster.system import install_crds  # noqa: E402

use_repo(Path(__file__).resolve().parent.parent)  # the CRDs come from this checkout

TOKEN = "bench-token"  # noqa: S105 - the benchmark server's own static token
AUTH = {
    "Authorization": "Basic " + base64.b64encode(f"@token:{TOKEN}".encode()).decode(),
    "User-Agent": "Nextflow/25.10.2",
}
NAMESPACE = "bench"
TICKS = os.sysconf("SC_CLK_TCK")
STATES = ("NEW", "SUBMITTED", "RUNNING", "COMPLETED")
TARGETS = ("sqlite", "postgresql", "kubernetes")
AIM_RATE, AIM_P99_MS, AIM_WRITES = 5000, 100.0, 6.0  # "a few" status writes per run per minute
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live descendants (PostgreSQL's backends)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS
            for thread in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (thread / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def task(task_id: int, state: str, now_ms: int) -> dict[str, Any]:
    started = state in ("RUNNING", "COMPLETED")
    return {
        "taskId": task_id,
        "status": state,
        "hash": f"{task_id % 256:02x}/{task_id:06x}",
        "name": f"ALIGN (sample_{task_id})",
        "process": "ALIGN",
        "tag": f"sample_{task_id}",
        "attempt": 1,
        "nativeId": f"job-{task_id}",
        "submit": now_ms - 60_000 if state != "NEW" else None,
        "start": now_ms - 30_000 if started else None,
        "complete": now_ms if state == "COMPLETED" else None,
        "exit": 0 if state == "COMPLETED" else 2147483647,
        "cpus": 4,
        "memory": 8 << 30,
        "time": 3_600_000,
        "duration": 60_000 if state == "COMPLETED" else None,
        "realtime": 30_000 if state == "COMPLETED" else None,
        "pcpu": 187.5,
        "peakRss": 1 << 30,
        "readBytes": 1 << 32,
        "writeBytes": 1 << 30,
        "workdir": f"s3://bench-scratch/work/{task_id:08x}",
        "executor": "awsbatch",
    }


async def one_run(
    http: httpx.AsyncClient, run: int, started: asyncio.Event, begun: Callable[[], None], phase: float, result: Result
) -> None:
    answer = await http.post(
        "/tower/trace/create",
        headers=AUTH,
        json={
            "sessionId": f"00000000-0000-4000-8000-{run:012d}",
            "runName": f"bench-{run}",
            "workflowId": None,
            "instant": int(time.time() * 1000),
        },
    )
    answer.raise_for_status()
    workflow_id = answer.json()["workflowId"]
    workflow = {
        "runName": f"bench-{run}",
        "start": "2026-12-01T21:00:00.000+01:00",
        "workDir": "s3://bench/work",
        "params": {"outdir": "s3://bench-results/out/"},
        "commandLine": "nextflow run bench",
    }
    (
        await http.put(
            f"/tower/trace/{workflow_id}/begin",
            headers=AUTH,
            json={"workflow": workflow, "processNames": ["ALIGN"], "instant": int(time.time() * 1000)},
        )
    ).raise_for_status()
    begun()
    await started.wait()
    ages = {i: i % len(STATES) for i in range(100)}  # task id -> index in STATES
    next_id = 100
    tick = result.start + phase
    while tick < result.until:
        await asyncio.sleep(max(0.0, tick - time.monotonic()))
        now_ms = int(time.time() * 1000)
        batch = [task(task_id, STATES[age], now_ms) for task_id, age in ages.items()]
        running = sum(1 for age in ages.values() if STATES[age] == "RUNNING")
        progress = {
            "processes": [
                {
                    "name": "ALIGN",
                    "running": running,
                    "succeeded": next_id - 100,
                    "pending": 25,
                    "submitted": 25,
                    "peakRunning": running,
                }
            ],
            "peakRunning": running,
        }
        sent = time.perf_counter()
        try:
            answer = await http.put(
                f"/tower/trace/{workflow_id}/progress",
                headers=AUTH,
                json={"tasks": batch, "progress": progress, "instant": now_ms},
            )
            if answer.status_code == 200:
                result.latencies.append(time.perf_counter() - sent)
                result.updates += len(batch)
            else:
                result.errors.append(f"{answer.status_code} {answer.text[:100]}")
        except httpx.HTTPError as error:
            result.errors.append(repr(error))
        result.last_ack = time.monotonic()
        ages = {i: a + 1 for i, a in ages.items() if a + 1 < len(STATES)}
        while len(ages) < 100:
            ages[next_id], next_id = 0, next_id + 1
        tick += 1.0


@dataclass
class Result:
    target: str
    runs: int
    start: float = 0.0
    until: float = 0.0
    last_ack: float = 0.0
    updates: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    server_cpu: float = 0.0
    database_cpu: float | None = None
    client_cpu: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    writes: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def elapsed(self) -> float:
        return max(self.last_ack, self.until) - self.start

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    @property
    def status_writes_per_run_minute(self) -> float:
        return self.writes[("PATCH", "status")] / self.runs / (self.elapsed / 60)


async def drive(url: str, result: Result, duration: float, seed: int, snapshot: Callable[[], Any]) -> Any:
    """Create and begin every run, then (after `snapshot()`) `duration` seconds of
    progress calls; returns what `snapshot()` returned before the window."""
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends: a request sent on a
    # connection the server is closing fails with a ReadError that no server could avoid.
    limits = httpx.Limits(max_connections=result.runs, max_keepalive_connections=result.runs, keepalive_expiry=3.0)
    phases = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        started, waiting = asyncio.Event(), [result.runs]

        def begun() -> None:
            waiting[0] -= 1

        runs = [
            asyncio.create_task(one_run(http, r, started, begun, phases.random(), result)) for r in range(result.runs)
        ]
        while waiting[0] > 0:
            await asyncio.sleep(0.05)
            for done in (r for r in runs if r.done()):
                done.result()  # a failed create or begin ends the benchmark
        before = await asyncio.to_thread(snapshot)
        result.start = time.monotonic()
        result.until = result.start + duration
        started.set()
        await asyncio.gather(*runs)
        return before


def workflowrun_writes(plane: ControlPlane) -> Counter[tuple[str, str]]:
    """The API server's own count of write requests on WorkflowRuns, by verb and subresource."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in plane.kubectl("get", "--raw", "/metrics").stdout.splitlines():
        if line.startswith("apiserver_request_total{") and 'resource="workflowruns"' in line:
            labels = dict(_LABEL.findall(line))
            if labels.get("verb") in ("POST", "PUT", "PATCH", "DELETE", "APPLY"):
                counts[(labels["verb"], labels.get("subresource", ""))] += int(float(line.rsplit(" ", 1)[1]))
    return counts


@contextmanager
def tracker_api(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")} | {
        "TRACKER_API__AUTH_MODE": "token",
        "TRACKER_API__TOKENS": f'{{"{TOKEN}": "bench"}}',
        "TRACKER_TOWER__DEFAULT_NAMESPACE": NAMESPACE,
        "TRACKER_LOG_LEVEL": "WARNING",
    }
    argv = [str(Path(sys.executable).with_name("tracker-api")), "--port", str(port)]
    server = subprocess.Popen(argv, env=base_env | env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("tracker-api did not start")
            time.sleep(0.1)
        yield base, server
    finally:
        server.terminate()
        server.wait(30)


def measure(target: str, args: argparse.Namespace, stack: ExitStack, tmp: Path) -> Result:
    result = Result(target=target, runs=args.runs)
    env = {"TRACKER_DATABASE_URL": f"sqlite:///{tmp}/{target}.db"}
    database_pid: int | None = None
    plane: ControlPlane | None = None
    if target == "postgresql" and args.database_url:
        env["TRACKER_DATABASE_URL"] = args.database_url
    elif target == "postgresql":
        durable = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
        postgres = PostgresServer(settings=durable).start()
        stack.callback(postgres.stop)
        env["TRACKER_DATABASE_URL"] = postgres.create_database("bench")
        database_pid = postgres.pid
    elif target == "kubernetes":
        plane = ControlPlane(state_dir=tmp / "controlplane").start()
        stack.callback(plane.stop)
        install_crds(plane)
        plane.kubectl("create", "namespace", NAMESPACE)
        env |= {
            "KUBECONFIG": str(plane.kubeconfig),
            "TRACKER_TOWER__RUNS": "kubernetes",
            "TRACKER_TOWER__STATUS_INTERVAL_SECONDS": str(args.status_interval),
        }
    with tracker_api(env) as (base, server):
        database_before = tree_cpu(database_pid) if database_pid else 0.0
        cpu_before, client_before = tree_cpu(server.pid), time.process_time()
        load_before = os.getloadavg()[0]
        snapshot: Callable[[], Any] = (lambda: workflowrun_writes(plane)) if plane is not None else (lambda: None)
        before = asyncio.run(drive(base, result, args.duration, args.seed, snapshot))
        if plane is not None:
            result.writes = workflowrun_writes(plane) - before
        result.server_cpu = tree_cpu(server.pid) - cpu_before
        result.client_cpu = time.process_time() - client_before
        if database_pid:
            result.database_cpu = tree_cpu(database_pid) - database_before
        result.load = (load_before, os.getloadavg()[0])
    return result


def verdict(ok: bool) -> str:
    return "meets the aim" if ok else "MISSES the aim"


def report(r: Result) -> None:
    per_k = 1000 / max(r.updates, 1)
    print(
        f"== {r.target}: {r.runs} runs, {r.elapsed:.1f} s of progress calls, load average {r.load[0]:.1f} -> {r.load[1]:.1f}"
    )
    print(
        f"task updates acknowledged: {r.updates} ({r.rate:,.0f}/s; {verdict(r.rate >= AIM_RATE)} of {AIM_RATE:,}/s), "
        f"progress calls: {len(r.latencies)}, errors: {len(r.errors)}{' e.g. ' + r.errors[0] if r.errors else ''}"
    )
    p99 = r.percentile_ms(0.99)
    print(
        f"ack latency: p50 {r.percentile_ms(0.5):.1f} ms, p99 {p99:.1f} ms ({verdict(p99 < AIM_P99_MS)} of "
        f"{AIM_P99_MS:.0f} ms), max {max(r.latencies, default=float('nan')) * 1000:.1f} ms"
    )
    print(
        f"server CPU: {r.server_cpu:.1f} s ({100 * r.server_cpu / r.elapsed:.0f} % of one core; "
        f"{1000 * r.server_cpu * per_k:.1f} ms per 1,000 task updates)"
        + (
            f"; PostgreSQL {r.database_cpu:.1f} s ({1000 * r.database_cpu * per_k:.1f} ms per 1,000)"
            if r.database_cpu is not None
            else ""
        )
        + f"; load generator {r.client_cpu:.1f} s ({100 * r.client_cpu / r.elapsed:.0f} % of one core)"
    )
    if r.target == "kubernetes":
        minutes = r.elapsed / 60
        by_kind = ", ".join(f"{verb} {sub or 'object'}: {n}" for (verb, sub), n in sorted(r.writes.items())) or "none"
        rate = r.status_writes_per_run_minute
        print(
            f"API server writes on WorkflowRuns during the window: {by_kind}; "
            f"{sum(r.writes.values()) / r.runs / minutes:.1f} per run per minute, of which status "
            f"{rate:.1f} ({verdict(rate <= AIM_WRITES)} of at most {AIM_WRITES:.0f}; no state changes in the window)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of progress calls per target")
    parser.add_argument(
        "--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)} (default: all)"
    )
    parser.add_argument("--database-url", help="the postgresql target's database (default: a server started here)")
    parser.add_argument("--status-interval", type=float, default=15.0, help="TRACKER_TOWER__STATUS_INTERVAL_SECONDS")
    parser.add_argument("--seed", type=int, default=12, help="of the runs' phases within the second")
    args = parser.parse_args()
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}: use {', '.join(TARGETS)}")
    for target in targets:
        with tempfile.TemporaryDirectory(prefix="tower-ingest-") as tmp, ExitStack() as stack:
            report(measure(target, args, stack, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
