"""Task updates per second and acknowledgement latency of the Nextflow trace receiver.

    .venv/bin/python benchmarks/tower_ingest.py --runs 50 --duration 20
    .venv/bin/python benchmarks/tower_ingest.py --database-url postgresql://...   # a PostgreSQL index

It starts `tracker-api` as a subprocess (uvicorn, one process; static-token auth;
runs written to the index, `TRACKER_TOWER__RUNS=index`; access logs off) on a fresh
SQLite index in a temp dir (or the given database), then simulates N Nextflow runs
from this process with an asyncio httpx client, as nf-tower sends them: create,
begin, then once a second a `PUT /trace/{id}/progress` with 100 task records (each
task moving NEW -> SUBMITTED -> RUNNING -> COMPLETED over successive batches, new
task ids as tasks finish) and the per-process counters. A call's latency is from
sending to the 2xx, which the receiver gives only after the task rows are committed.

Printed: task updates/s acknowledged, p50/p99/max acknowledgement latency, errors,
and the server's CPU (from /proc) and the load average: the client shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]  # see api_load.py

import httpx  # noqa: E402

TOKEN = "bench-token"  # noqa: S105 - the benchmark server's own static token
AUTH = {
    "Authorization": "Basic " + base64.b64encode(f"@token:{TOKEN}".encode()).decode(),
    "User-Agent": "Nextflow/25.10.2",
}
TICKS = os.sysconf("SC_CLK_TCK")
STATES = ("NEW", "SUBMITTED", "RUNNING", "COMPLETED")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


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


async def one_run(http: httpx.AsyncClient, run: int, until: float, latencies: list[float], errors: list[str]) -> int:
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
    ages = {i: i % len(STATES) for i in range(100)}  # task id -> index in STATES
    next_id, sent, tick = 100, 0, time.monotonic()
    while time.monotonic() < until:
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
        started = time.perf_counter()
        try:
            answer = await http.put(
                f"/tower/trace/{workflow_id}/progress",
                headers=AUTH,
                json={"tasks": batch, "progress": progress, "instant": now_ms},
            )
            if answer.status_code == 200:
                latencies.append(time.perf_counter() - started)
                sent += len(batch)
            else:
                errors.append(f"{answer.status_code} {answer.text[:100]}")
        except httpx.HTTPError as error:
            errors.append(repr(error))
        ages = {i: a + 1 for i, a in ages.items() if a + 1 < len(STATES)}
        while len(ages) < 100:
            ages[next_id], next_id = 0, next_id + 1
        tick += 1.0
        await asyncio.sleep(max(0.0, tick - time.monotonic()))
    return sent


async def drive(url: str, runs: int, duration: float) -> tuple[int, list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=runs, max_keepalive_connections=runs)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        until = time.monotonic() + duration + 2
        started = time.monotonic()
        counts = await asyncio.gather(*(one_run(http, r, until, latencies, errors) for r in range(runs)))
        return sum(counts), latencies, errors, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of progress calls")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url_db = args.database_url or f"sqlite:///{tmp}/index.db"
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")} | {
            "TRACKER_DATABASE_URL": url_db,
            "TRACKER_API__AUTH_MODE": "token",
            "TRACKER_API__TOKENS": f'{{"{TOKEN}": "bench"}}',
            "TRACKER_TOWER__DEFAULT_NAMESPACE": "bench",
            "TRACKER_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen([str(Path(sys.executable).with_name("tracker-api")), "--port", str(port)], env=env)
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
            cpu_before = server_cpu(server.pid)
            updates, latencies, errors, elapsed = asyncio.run(drive(base, args.runs, args.duration))
            cpu = server_cpu(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"database: {'PostgreSQL' if args.database_url else 'SQLite (WAL)'}; runs: {args.runs}; "
        f"measured {elapsed:.1f} s"
    )
    print(
        f"task updates acknowledged: {updates} ({updates / elapsed:,.0f}/s), progress calls: {len(latencies)}, "
        f"errors: {len(errors)}{' e.g. ' + errors[0] if errors else ''}"
    )
    print(
        f"ack latency: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
        f"max {max(latencies, default=float('nan')) * 1000:.1f} ms"
    )
    print(
        f"server CPU: {cpu:.1f} s over {elapsed:.1f} s ({100 * cpu / elapsed:.0f} % of one core); "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
