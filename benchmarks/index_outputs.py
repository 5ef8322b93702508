"""Throughput of index_outputs: list a run's outputDir and upsert one index row per object.

    .venv/bin/python benchmarks/index_outputs.py                                  # MinIO, 200,000 objects
    .venv/bin/python benchmarks/index_outputs.py --server moto --objects 20000    # moto, for comparison

It runs the worker's own code path (`tracker.worker.index.index_outputs`): pages from
`tracker.s3.listing.iter_pages` on a client from `tracker.s3.client.make_client`, each
upserted by `tracker.store.outputs.upsert_outputs` in its own transaction, then
`refresh_outputs_summary`, into an SQLite index file made by `make_engine` + `migrate`.
Only the Kubernetes side is left out: the job reporter is a stand-in that counts (the
real one patches the job's status at most once a second) and the run's status is not
patched. The baseline lists the same prefix with boto3 alone: the floor set by S3.

Each measurement runs in a fresh child process, so its peak RSS is its own. MinIO
(scripts/build-minio.sh, cached) lists in time independent of the bucket's size; moto's
ListObjectsV2 costs O(objects in the bucket) per page, so moto mostly measures moto.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from localcluster.minio import MinioServer, fill_prefix
from localcluster.repo import use_repo
from localcluster.s3server import S3Server, seed_objects

use_repo(Path(__file__).resolve().parent.parent)  # the benchmarks live in the checkout

BUCKET = "bench-outputs"
PREFIX = "runs/bench-run-1/"


class CountingReporter:
    """Stand-in for `tracker.worker.reporter.JobReporter` without a Kubernetes API:
    keeps the counters the same way and counts the flushes it would have sent."""

    def __init__(self, interval: float = 1.0) -> None:
        from tracker.domain.records import JobCounters

        self.counters = JobCounters()
        self.flushes = 0
        self._interval, self._last_sent = interval, 0.0

    def count(self, **increments: int) -> None:
        self.counters = replace(self.counters, **{k: getattr(self.counters, k) + v for k, v in increments.items()})
        if time.monotonic() - self._last_sent >= self._interval:
            self.flush()

    def flush(self) -> None:
        self.flushes += 1
        self._last_sent = time.monotonic()


def _rss_now_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _s3_client(endpoint_url: str) -> Any:
    from tracker.s3.client import make_client
    from tracker.settings import S3Settings

    return make_client(S3Settings(endpoint_url=endpoint_url))


def measure_baseline(endpoint_url: str, page_size: int) -> dict[str, Any]:
    """ListObjectsV2 over the prefix with boto3 alone (same client settings as the worker)."""
    s3 = _s3_client(endpoint_url)
    start_rss = _rss_now_kib()
    started = time.perf_counter()
    objects = pages = 0
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=PREFIX, PaginationConfig={"PageSize": page_size}
    ):
        objects += len(page.get("Contents", ()))
        pages += 1
    seconds = time.perf_counter() - started
    return {
        "objects": objects,
        "pages": pages,
        "seconds": seconds,
        "start_rss_kib": start_rss,
        "peak_rss_kib": _peak_rss_kib(),
    }


def measure_index(endpoint_url: str, page_size: int, db_path: str) -> dict[str, Any]:
    """The body of `index_outputs`, timed: listing (waiting on the page iterator) apart
    from upserting (the transaction per page), then the summary."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from tracker.domain.records import RunRecord
    from tracker.domain.s3url import parse_prefix
    from tracker.s3.listing import iter_pages
    from tracker.store import outputs as output_rows
    from tracker.store.engine import make_engine, migrate, session_factory
    from tracker.store.models import Output
    from tracker.store.runs import upsert_run

    engine = make_engine(f"sqlite:///{db_path}")
    migrate(engine)
    sessions = session_factory(engine)
    run_id = str(uuid.uuid4())
    output_dir = f"s3://{BUCKET}/{PREFIX}"
    with sessions.begin() as session:
        upsert_run(
            session,
            record=RunRecord(
                id=run_id,
                namespace="bench",
                name="bench-run-1",
                run_name="bench-run-1",
                owner="bench",
                engine="nextflow",
                output_dir=output_dir,
                phase="Succeeded",
                state="Succeeded",
            ),
        )
    s3, reporter = _s3_client(endpoint_url), CountingReporter()
    start_rss = _rss_now_kib()

    # As tracker.worker.index.index_outputs does it.
    started = time.perf_counter()
    listing = upserting = 0.0
    prefix = parse_prefix(output_dir, field="outputDir")
    pages = iter_pages(s3, prefix, page_size=page_size)
    while True:
        t0 = time.perf_counter()
        page = next(pages, None)
        t1 = time.perf_counter()
        listing += t1 - t0
        if page is None:
            break
        with sessions.begin() as session:
            output_rows.upsert_outputs(session, run_id=run_id, objects=page)
        reporter.count(objects_indexed=len(page))
        upserting += time.perf_counter() - t1
    t2 = time.perf_counter()
    with sessions.begin() as session:
        summary = output_rows.refresh_outputs_summary(session, run_id=run_id, indexed_at=datetime.now(UTC))
    seconds = time.perf_counter() - started
    summarising = time.perf_counter() - t2

    with sessions() as session:
        rows = session.scalar(select(func.count()).select_from(Output).where(Output.run_id == run_id))
    engine.dispose()
    return {
        "objects": reporter.counters.objects_indexed,
        "rows": rows,
        "summary_count": summary.count,
        "seconds": seconds,
        "listing": listing,
        "upserting": upserting,
        "summarising": summarising,
        "flushes": reporter.flushes,
        "db_bytes": Path(db_path).stat().st_size,
        "start_rss_kib": start_rss,
        "peak_rss_kib": _peak_rss_kib(),
    }


def _in_child(function: Any, *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("minio", "moto"), default="minio")
    parser.add_argument("--objects", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=100, help="bytes per object")
    parser.add_argument("--page-size", type=int, default=1000, help="ListObjectsV2 page size (the worker's default)")
    parser.add_argument("--rounds", type=int, default=1, help="baseline + index rounds on the same objects")
    parser.add_argument("--db-dir", type=Path, default=None, help="where the SQLite index goes (default: a temp dir)")
    args = parser.parse_args(argv)

    server: MinioServer | S3Server = MinioServer() if args.server == "minio" else S3Server()
    started = time.perf_counter()
    server.start()
    print(f"server: {args.server} at {server.endpoint_url}, ready in {time.perf_counter() - started:.1f} s")
    try:
        os.environ.update(
            AWS_ACCESS_KEY_ID=server.access_key,
            AWS_SECRET_ACCESS_KEY=server.secret_key,
            AWS_DEFAULT_REGION=server.region,
        )
        server.client().create_bucket(Bucket=BUCKET)
        started = time.perf_counter()
        if isinstance(server, MinioServer):
            filled = fill_prefix(server, BUCKET, PREFIX, args.objects, size=args.size)
            how = "fill_prefix (MinIO bulk upload)"
        else:
            filled = seed_objects(server, BUCKET, prefix=PREFIX, count=args.objects, size=args.size)
            how = "seed_objects (inside moto)"
        seconds = time.perf_counter() - started
        print(f"fill: {filled} objects of {args.size} B in {seconds:.1f} s = {filled / seconds:,.0f} objects/s ({how})")

        for round_number in range(1, args.rounds + 1):
            label = f"round {round_number}: " if args.rounds > 1 else ""
            base = _in_child(measure_baseline, server.endpoint_url, args.page_size)
            print(
                f"{label}baseline (boto3 ListObjectsV2 only): {base['objects']} objects, {base['pages']} pages, "
                f"{base['seconds']:.2f} s = {base['objects'] / base['seconds']:,.0f} objects/s; "
                f"peak RSS {_mib(base['peak_rss_kib'])} (at start {_mib(base['start_rss_kib'])})"
            )
            with tempfile.TemporaryDirectory(prefix="wt-bench-index-", dir=args.db_dir) as tmp:
                result = _in_child(measure_index, server.endpoint_url, args.page_size, str(Path(tmp) / "index.db"))
            if not result["objects"] == result["rows"] == result["summary_count"] == filled:
                print(
                    f"MISMATCH: filled {filled}, indexed {result['objects']}, rows {result['rows']}, "
                    f"summary {result['summary_count']}",
                    file=sys.stderr,
                )
                return 1
            n, s = result["objects"], result["seconds"]
            print(f"{label}index_outputs: {n} objects in {s:.2f} s = {n / s:,.0f} objects/s")
            print(
                f"  listing (iter_pages): {result['listing']:.2f} s = {n / result['listing']:,.0f} objects/s; "
                f"upserting (upsert_outputs, a transaction per page): {result['upserting']:.2f} s = "
                f"{n / result['upserting']:,.0f} rows/s; summary: {result['summarising']:.2f} s"
            )
            print(
                f"  peak RSS {_mib(result['peak_rss_kib'])} (at start {_mib(result['start_rss_kib'])}); "
                f"index file {result['db_bytes'] / 2**20:.0f} MiB; reporter flushes {result['flushes']}"
            )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
