"""Requests per second and latency of the read API's Run Detail route under 32 concurrent clients.

    .venv/bin/python benchmarks/api_load.py                                   # 3,000 runs, 20 s per measurement
    .venv/bin/python benchmarks/api_load.py --runs 500 --duration 5           # a quick look

It seeds an SQLite index (`make_engine` + `migrate`, in a temp dir) with the store's own
functions: `upsert_run` for every run (six processes each; every fifth run resumed once,
so it has a previous execution), `upsert_outputs` and `refresh_outputs_summary` for
each run's outputs. Then it starts `tracker-api` as a subprocess (uvicorn, one process,
TRACKER_API__AUTH_MODE=none, TRACKER_LOG_LEVEL=WARNING so that access logs are off) and
drives it from this process with an asyncio httpx client: 32 workers, each sending its
next request when the previous one is answered, over keep-alive connections; a warm-up,
then a fixed-duration measurement; every latency timed with time.perf_counter.

Target: `GET /api/v1/runs/{run}` for random runs, half of them named by id, half by
run name (one query more: the id is tried first). Peer: `GET /healthz` on the same
server, the same way: a route that does no work, so its numbers are the floor set by
uvicorn, FastAPI, the client and the machine. When `wrk` is on PATH (`apt-get install
wrk`), both are measured again with `wrk -t2 -c32 --latency` (a Lua script picks the
random runs), whose client costs far less CPU than Python's.

The client shares the 2 cores with the server, so the script prints the CPU each used
during the measurement (server from /proc, client from getrusage) and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

# httpcore 1.0 tries `import sniffio` whenever it makes a lock (several times per
# request); sniffio is not installed here, and a failed import searches sys.path every
# time. A None entry makes that import fail at once: httpcore then assumes asyncio.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lookup_latency import load, make_run, run_objects  # noqa: E402  (same data shapes)

CONCURRENCY = 32
TICKS = os.sysconf("SC_CLK_TCK")


def seed(db: Path, runs: int, outputs_per_run: int) -> float:
    from tracker.store.engine import make_engine, migrate, session_factory
    from tracker.store.outputs import refresh_outputs_summary, upsert_outputs
    from tracker.store.runs import upsert_run

    started = time.perf_counter()
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    sessions = session_factory(engine)
    for first in range(0, runs, 100):
        with sessions.begin() as session:
            for i in range(first, min(runs, first + 100)):
                record = make_run(i)
                upsert_run(session, record=record)
                if i % 5 == 0:  # resumed: the first execution is kept in run_executions
                    upsert_run(
                        session,
                        record=replace(
                            record,
                            started_at=record.started_at + timedelta(hours=4),
                            completed_at=record.completed_at + timedelta(hours=5),
                        ),
                    )
                upsert_outputs(session, run_id=record.id, objects=run_objects(i, outputs_per_run))
                refresh_outputs_summary(session, run_id=record.id, indexed_at=record.completed_at)
    engine.dispose()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def drive(base: str, paths: list[str], seconds: float, seed_value: int) -> dict[str, Any]:
    """32 workers, each a closed loop of GETs on random `paths`, for `seconds`."""
    latencies: list[float] = []
    errors: list[str] = []
    # One client (one keep-alive connection) per worker: httpcore's shared pool scans
    # every connection on every request, which made a 32-connection pool the bottleneck.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0, trust_env=False) for _ in range(CONCURRENCY)
    ]
    try:
        deadline = time.perf_counter() + seconds

        async def worker(n: int) -> None:
            rnd, client = random.Random(seed_value * 1000 + n), clients[n]
            while time.perf_counter() < deadline:
                path = rnd.choice(paths)
                t0 = time.perf_counter()
                try:
                    response = await client.get(path)
                    await response.aread()
                    if response.status_code != 200:
                        errors.append(f"{response.status_code} {path}")
                except httpx.HTTPError as error:
                    errors.append(f"{type(error).__name__} {path}")
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()
    return {"requests": len(latencies), "seconds": elapsed, "latencies": latencies, "errors": errors}


def measure_httpx(base: str, paths: list[str], pid: int, warmup: float, duration: float) -> dict[str, Any]:
    asyncio.run(drive(base, paths, warmup, 1))
    s0, c0 = server_cpu(pid), client_cpu()
    result = asyncio.run(drive(base, paths, duration, 2))
    result["server_cpu"], result["client_cpu"] = server_cpu(pid) - s0, client_cpu() - c0
    result["load"] = load()
    lat = result["latencies"]
    result.update(rps=len(lat) / result["seconds"], p50=pct(lat, 50), p99=pct(lat, 99), max=max(lat))
    return result


def measure_wrk(base: str, paths: list[str], pid: int, duration: float, tmp: Path) -> dict[str, Any] | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    script = tmp / f"paths-{len(paths)}.lua"
    quoted = ",\n".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    script.write_text(
        f"paths = {{\n{quoted}\n}}\nmath.randomseed(3)\n"
        "request = function() return wrk.format('GET', paths[math.random(#paths)]) end\n"
    )
    s0 = server_cpu(pid)
    out = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{CONCURRENCY}",
            f"-d{int(duration)}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = {"server_cpu": server_cpu(pid) - s0, "load": load(), "raw": out}
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    for key, label in (("p50", "50%"), ("p99", "99%")):
        value, unit = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\b", out, re.M).groups()
        result[key] = float(value) / {"us": 1e6, "ms": 1e3, "s": 1.0}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def line(label: str, r: dict[str, Any], duration: float) -> str:
    errors = len(r["errors"]) if isinstance(r["errors"], list) else r["errors"]
    cpu = f"server CPU {r['server_cpu'] / duration:.0%} of a core"
    if "client_cpu" in r:
        cpu += f", client CPU {r['client_cpu'] / duration:.0%}"
    return (
        f"  {label:<28} {r['rps']:8,.0f} req/s  p50 {ms(r['p50']):>9}  p99 {ms(r['p99']):>9}  "
        f"errors {errors}  ({r['requests']:,} requests; {cpu}; {r['load']})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3_000)
    parser.add_argument("--outputs-per-run", type=int, default=100)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up before each httpx measurement")
    parser.add_argument("--no-wrk", action="store_true", help="skip wrk even when it is installed")
    args = parser.parse_args(argv)

    print(f"{os.cpu_count()} cores, {load()}; {CONCURRENCY} concurrent clients, {args.duration:.0f} s per measurement")
    with tempfile.TemporaryDirectory(prefix="wt-bench-api-") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "index.db"
        seconds = seed(db, args.runs, args.outputs_per_run)
        print(
            f"seeded {args.runs:,} runs (6 processes each, {args.runs // 5 + (args.runs % 5 > 0):,} resumed), "
            f"{args.runs * args.outputs_per_run:,} outputs in {seconds:.1f} s; index file "
            f"{db.stat().st_size / 2**20:.0f} MiB ({load()})"
        )

        port = free_port()
        env = dict(
            os.environ,
            TRACKER_DATABASE_URL=f"sqlite:///{db}",
            TRACKER_API__AUTH_MODE="none",
            TRACKER_LOG_LEVEL="WARNING",
        )
        command = [str(Path(sys.executable).with_name("tracker-api")), "--port", str(port)]
        log = (tmp / "api.log").open("wb")
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            started = time.perf_counter()
            while True:
                if server.poll() is not None:
                    print((tmp / "api.log").read_text(), file=sys.stderr)
                    raise RuntimeError(f"tracker-api exited with code {server.returncode}")
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - started > 60:
                    raise RuntimeError("tracker-api did not answer /healthz within 60 s")
                time.sleep(0.1)
            print(
                f"tracker-api (pid {server.pid}) answering in {time.perf_counter() - started:.1f} s: {' '.join(command)}"
            )

            from lookup_latency import run_id, run_name

            detail = [f"/api/v1/runs/{run_id(i) if i % 2 else run_name(i)}" for i in range(args.runs)]
            sample = httpx.get(base + detail[0]).json()
            print(
                f"sample {detail[0]}: {len(httpx.get(base + detail[0]).content):,} bytes, "
                f"{len(sample.get('processes', []))} processes, {len(sample.get('executions', []))} executions"
            )
            ok = True
            results: dict[str, dict[str, Any]] = {}
            for label, paths in (("run detail", detail), ("healthz", ["/healthz"])):
                r = measure_httpx(base, paths, server.pid, args.warmup, args.duration)
                results[f"httpx {label}"] = r
                print(line(f"httpx  {label}", r, args.duration), flush=True)
                for error in sorted(set(r["errors"]))[:5]:
                    print(f"    error: {error}", file=sys.stderr)
                ok = ok and not r["errors"]
                if not args.no_wrk:
                    w = measure_wrk(base, paths, server.pid, args.duration, tmp)
                    if w is None:
                        print("  wrk: not installed, skipped")
                    else:
                        results[f"wrk {label}"] = w
                        print(line(f"wrk    {label}", w, args.duration), flush=True)
                        ok = ok and not w["errors"]
            for tool in ("httpx", "wrk"):
                d, h = results.get(f"{tool} run detail"), results.get(f"{tool} healthz")
                if d and h:
                    print(
                        f"  {tool}: run detail = {d['rps'] / h['rps']:.0%} of /healthz throughput "
                        f"(healthz/detail {h['rps'] / d['rps']:.2f}x); p99 {d['p99'] / h['p99']:.2f}x the floor's"
                    )
            if server.poll() is not None:
                print(f"tracker-api exited during the run (code {server.returncode})", file=sys.stderr)
                ok = False
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            log.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
