"""The run archive and the operator's memory: does it grow with the archive?

One run, the same live load twice; the peer is the same operator over an empty archive.
For each archive size (0, then `--archived`): a fresh local control plane and SQLite
index already holding that many archived runs (built with the store's own functions),
`--live` WorkflowRuns created in the cluster and kept Running (one heartbeat each, a
heartbeat timeout longer than the benchmark), then `--finish` more runs that finish and
are archived by the operator while it is measured (`archive.after_seconds` 1, a pass
every 2 s). Prints, per archive size: the operator's peak RSS (VmHWM) and RSS at the
end, its CPU seconds, how long the archiver took to remove the finished runs, and how
long the archiver's query for due runs takes on that index; then the ratio of the two
peaks.

    .venv/bin/python benchmarks/archive_memory.py --archived 100000 --live 10000 --finish 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from heartbeats import (  # the same load generator and set-up
    NAMESPACE,
    RUNS_PATH,
    Generator,
    cpu_seconds,
    operator_on_plane,
    peak_rss,
    session,
    stamp,
)

from localcluster.controlplane import ControlPlane
from localcluster.repo import use_repo
from localcluster.tracker import Operator
from tracker.domain.records import RunRecord
from tracker.store import archive as archive_rows
from tracker.store import runs as run_rows
from tracker.store.engine import make_engine, migrate, session_factory

use_repo(Path(__file__).resolve().parent.parent)  # the benchmarks live in the checkout

SEED_BATCH = 1000
LONG_TIMEOUT = 24 * 3600  # seconds: live runs stay Running without a steady heartbeat load


def seed_archive(database_url: str, count: int) -> float:
    """`count` finished runs of last year, archived and removed, as the archiver leaves them."""
    engine = make_engine(database_url)
    migrate(engine)
    sessions = session_factory(engine)
    started = time.monotonic()
    finished = datetime(2025, 6, 1, tzinfo=UTC)
    for first in range(0, count, SEED_BATCH):
        ids = [str(uuid.uuid4()) for _ in range(min(SEED_BATCH, count - first))]
        with sessions.begin() as session:
            for offset, run_id in enumerate(ids):
                name = f"archived-{first + offset:06d}"
                done = finished + timedelta(seconds=first + offset)
                record = RunRecord(
                    id=run_id,
                    namespace=NAMESPACE,
                    name=name,
                    run_name=name,
                    owner="bench",
                    engine="nextflow",
                    output_dir=f"s3://bench-archive/runs/{name}/",
                    phase="Succeeded",
                    state="Succeeded",
                    created_at=done - timedelta(hours=2),
                    started_at=done - timedelta(hours=2),
                    completed_at=done,
                )
                run_rows.upsert_run(session, record=record)
            archive_rows.mark_archived(session, run_ids=ids, at=finished + timedelta(days=30))
            archive_rows.mark_removed(session, run_ids=ids, at=finished + timedelta(days=30))
    engine.dispose()
    return time.monotonic() - started


def candidates_query_ms(database_url: str, repeats: int = 20) -> float:
    """Median time of the archiver's query for due runs on this index."""
    engine = make_engine(database_url)
    sessions = session_factory(engine, readonly=True)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with sessions() as session:
            archive_rows.candidates(session, now=datetime.now(UTC), after_seconds=1, limit=100)
        times.append(1000 * (time.perf_counter() - started))
    engine.dispose()
    return statistics.median(times)


async def watch_runs(
    http: aiohttp.ClientSession, server: str, states: dict[str, str | None], listed: asyncio.Event
) -> None:
    """Keep `states` (run name -> derived state) true: a listing, then the namespace's
    watch (deleted runs leave it); listed again whenever the watch breaks off."""
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    while True:
        async with http.get(f"{server}{RUNS_PATH}") as response:
            response.raise_for_status()
            listing = await response.json()
        states.clear()
        states.update({run["metadata"]["name"]: (run.get("status") or {}).get("state") for run in listing["items"]})
        listed.set()
        params = {"watch": "1", "resourceVersion": listing["metadata"]["resourceVersion"], "timeoutSeconds": "3600"}
        try:
            async with http.get(f"{server}{RUNS_PATH}", params=params, timeout=timeout) as response:
                async for line in response.content:  # one JSON event a line, however long
                    if line.strip():
                        event = json.loads(line)
                        if event["type"] == "ERROR":
                            break
                        name = event["object"]["metadata"]["name"]
                        if event["type"] == "DELETED":
                            states.pop(name, None)
                        else:
                            states[name] = (event["object"].get("status") or {}).get("state")
        except (aiohttp.ClientError, ValueError):
            pass


async def wait_for(condition: Callable[[], bool], what: str, timeout: float) -> float:
    """Seconds until `condition()` holds (checked twice a second); TimeoutError after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what} within {timeout:.0f} s")
        await asyncio.sleep(0.5)
    return time.monotonic() - started


async def measure(args: argparse.Namespace, plane: ControlPlane, operator: Operator, workdir: Path) -> dict[str, float]:
    http, server = session(plane.mint_user("bench", ["system:masters"]), workdir)
    live = [f"live-{i:05d}" for i in range(args.live)]
    finishing = [f"done-{i:05d}" for i in range(args.finish)]
    states: dict[str, str | None] = {}
    listed = asyncio.Event()
    watcher = asyncio.create_task(watch_runs(http, server, states, listed))
    await asyncio.wait([watcher, asyncio.ensure_future(listed.wait())], return_when=asyncio.FIRST_COMPLETED)
    if watcher.done():
        watcher.result()  # raises what stopped it
    # each runner reports Running once; its heartbeat timeout outlasts the benchmark
    load = Generator(http, server, argparse.Namespace(timeout=LONG_TIMEOUT, interval=LONG_TIMEOUT, **vars(args)))
    started = time.monotonic()
    await load.create_all(live + finishing)
    await asyncio.gather(*list(load.inflight))
    if load.load.failures:
        raise RuntimeError(f"the load generator saw failures: {dict(load.load.failures)}")
    total = len(live) + len(finishing)
    await wait_for(lambda: sum(1 for s in states.values() if s == "Running") == total, "all Running", args.wait)
    print(f"  {total} runs created and Running after {time.monotonic() - started:.1f} s")
    pid = operator.process.pid  # type: ignore[union-attr]
    cpu_before = cpu_seconds(pid)
    now = stamp(datetime.now(UTC))
    await asyncio.gather(*(load.beat(name, {"phase": "Succeeded", "completedAt": now}) for name in finishing))
    archiving = await wait_for(lambda: len(states) == len(live), "finished runs archived", args.wait)
    cpu, peak = cpu_seconds(pid) - cpu_before, peak_rss(pid)
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    rss_kib = int(next(line for line in status if line.startswith("VmRSS")).split()[1])
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    await http.close()
    return {"archiving": archiving, "cpu": cpu, "peak": peak / 2**20, "rss": rss_kib / 2**10}


def one_size(args: argparse.Namespace, archived: int) -> dict[str, float]:
    print(f"archive of {archived:,} runs, {args.live:,} live, {args.finish:,} finishing:")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database_url = f"sqlite:///{workdir / 'tracker.db'}"
        seeded = seed_archive(database_url, archived)
        print(f"  index seeded in {seeded:.1f} s")
        archiving = {"TRACKER_ARCHIVE__AFTER_SECONDS": "1", "TRACKER_ARCHIVE__INTERVAL_SECONDS": "2"}
        with operator_on_plane(workdir, database_url, archiving) as (plane, operator):
            result = asyncio.run(measure(args, plane, operator, workdir))
        result["query"] = candidates_query_ms(database_url)
    print(
        f"  finished runs archived {result['archiving']:.1f} s after finishing; operator CPU {result['cpu']:.1f} s "
        f"meanwhile; peak RSS {result['peak']:.0f} MiB, RSS at the end {result['rss']:.0f} MiB; "
        f"due-runs query {result['query']:.1f} ms (median)"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archived", type=int, default=100_000, help="archived runs already in the index")
    parser.add_argument("--live", type=int, default=10_000, help="WorkflowRuns kept Running in the cluster")
    parser.add_argument("--finish", type=int, default=1_000, help="runs that finish and are archived meanwhile")
    parser.add_argument("--create-rate", type=float, default=50, help="new runs a second")
    parser.add_argument("--wait", type=float, default=1800, help="seconds to wait for each phase")
    args = parser.parse_args()
    empty = one_size(args, 0)
    full = one_size(args, args.archived)
    print(
        f"peak RSS with {args.archived:,} archived / with none: {full['peak']:.0f} / {empty['peak']:.0f} MiB "
        f"({full['peak'] / empty['peak']:.2f}x)"
    )


if __name__ == "__main__":
    main()
