"""Latency of the `tracker outputs info` lookup over millions of output rows, against a plain scan.

    .venv/bin/python benchmarks/lookup_latency.py                                   # 5,000,000 rows, SQLite and PostgreSQL
    .venv/bin/python benchmarks/lookup_latency.py --rows 200000 --engines sqlite    # a quick look

The index is built with the project's own store functions: `upsert_run` for every run
(with a process table), then `upsert_outputs` for each run's objects, many runs per
transaction, into an SQLite file (`make_engine` + `migrate`, in a temp dir) and into a
PostgreSQL database on a `localcluster.postgres.PostgresServer` (its default settings:
fsync off, shared_buffers 128 MB). URLs look like
`s3://lab-results-<n>/runs/<run-name>/<sample>/<sample>_<step>_<k>.bam`.

The measured call is `tracker.store.lookup.lookup_runs_by_url(session, text=..., limit=100)`
in a read-only session from `session_factory(engine, readonly=True)`, one session per
lookup: what `GET /api/v1/outputs/lookup` (the route `tracker outputs info` calls) runs,
without the HTTP hop. It returns full run records (with processes), newest first.

The peer is a plain scan of the same outputs table on the same data, in the same kind
of session: `SELECT DISTINCT run_id FROM outputs WHERE lower(url) LIKE lower(:p) ESCAPE '\\'`
on SQLite, `... WHERE url ILIKE :p ESCAPE '\\'` on PostgreSQL (`p` = `%text%`, text
escaped so both sides answer the same question). On PostgreSQL the scan's connections
carry `enable_bitmapscan=off, enable_indexscan=off, enable_indexonlyscan=off`, so the
planner cannot use the trigram index (GIN is only reachable through bitmap scans) nor
walk a b-tree: it is the table's own sequential scan (parallel workers allowed), on
the same table and buffers as the lookup. The script prints both plans. The scan
returns only run ids, so it does less work per match than the lookup.

Query mix (random, fixed seed): full object URLs, file names (sample-specific, so one
run), run prefixes (the run's outputDir), broad file-name endings that match every run
(limit 100 applies), and URLs that match nothing (under a `<run-name>-rerun/` prefix
next to a real run); some in changed case. `tracker outputs info` itself only accepts
s3:// URLs; file names and endings are what the same API route gets from other callers.
Each query is timed once per method with time.perf_counter, the two methods
alternating, after one uncounted warm-up of each; the answers are checked against each
other. Percentiles (nearest rank) are printed over the whole mix and without the broad
endings; with 50 queries, p99 is the slowest query.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PIPELINES = ("rnaseq", "sarek", "atacseq", "chipseq", "methylseq", "viralrecon")
STEPS = ("sorted", "markdup", "recal", "unmapped")
PROCESSES = ("FASTQC", "TRIMGALORE", "BWA_MEM", "SAMTOOLS_SORT", "MARKDUPLICATES", "MULTIQC")
BUCKETS = 5  # 2,000 runs per bucket at 10,000 runs
SAMPLES = 25  # per run; files per sample = rows per run / SAMPLES
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
PG_NO_INDEX = "-c enable_bitmapscan=off -c enable_indexscan=off -c enable_indexonlyscan=off"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


# -- the data -------------------------------------------------------------------------
def run_name(i: int) -> str:
    return f"{PIPELINES[i % len(PIPELINES)]}-{i:05d}"


def output_dir(i: int) -> str:
    return f"s3://lab-results-{i % BUCKETS}/runs/{run_name(i)}/"


def sample(i: int, j: int) -> str:
    return f"LAB{i:05d}-S{j:02d}"


def file_name(i: int, j: int, k: int) -> str:
    return f"{sample(i, j)}_{STEPS[k % len(STEPS)]}_{k // len(STEPS):03d}.bam"


def object_url(i: int, j: int, k: int) -> str:
    return f"{output_dir(i)}{sample(i, j)}/{file_name(i, j, k)}"


def run_id(i: int) -> str:
    return str(uuid.UUID(int=random.Random(i).getrandbits(128), version=4))


def make_run(i: int, *, namespace: str = "lab") -> Any:
    """Run number `i`, finished, with a process table."""
    from tracker.domain.records import ProcessCounts, RunRecord

    created = EPOCH + timedelta(minutes=7 * i)
    processes = tuple(
        ProcessCounts(p, succeeded=20 + (i + n) % 50, cached=n, failed=int((i + n) % 3 == 0))
        for n, p in enumerate(PROCESSES)
    )
    return RunRecord(
        id=run_id(i),
        namespace=namespace,
        name=run_name(i),
        run_name=run_name(i),
        owner=f"user{i % 37}",
        cluster=f"cluster-{i % 3}",
        engine="nextflow",
        repository=f"nf-core/{PIPELINES[i % len(PIPELINES)]}",
        revision="3.14.0",
        commit=f"{i:040x}",
        work_dir=f"s3://lab-work-{i % BUCKETS}/work/{run_name(i)}/",
        output_dir=output_dir(i),
        session_id=str(uuid.UUID(int=i + 1)),
        command_line=f"nextflow run nf-core/{PIPELINES[i % len(PIPELINES)]} -profile k8s",
        params={"genome": "GRCh38", "outdir": output_dir(i)},
        labels={"project": f"p{i % 11}"},
        phase="Succeeded",
        state="Succeeded",
        created_at=created,
        started_at=created + timedelta(minutes=1),
        completed_at=created + timedelta(hours=3),
        last_heartbeat_at=created + timedelta(hours=3),
        peak_concurrency=24,
        cost=3.5 + i % 17,
        processes=processes,
    )


def run_objects(i: int, per_run: int) -> Iterator[Any]:
    """The run's `per_run` output objects."""
    from tracker.domain.records import OutputObject

    files = math.ceil(per_run / SAMPLES)
    modified = EPOCH + timedelta(minutes=7 * i + 120)
    for n in range(per_run):
        j, k = divmod(n, files)
        yield OutputObject(
            url=object_url(i, j, k),
            size=1_000_000 + (n * 7919) % 50_000_000,
            last_modified=modified,
            etag=f"{i:08x}{n:024x}",
            storage_class="STANDARD",
        )


def build(engine: Any, runs: int, per_run: int, runs_per_transaction: int) -> float:
    """Runs, then outputs, with the store's own functions. Returns seconds."""
    from tracker.store.engine import session_factory
    from tracker.store.outputs import refresh_outputs_summary, upsert_outputs
    from tracker.store.runs import upsert_run

    sessions = session_factory(engine)
    started = time.perf_counter()
    for first in range(0, runs, 500):
        with sessions.begin() as session:
            for i in range(first, min(runs, first + 500)):
                upsert_run(session, record=make_run(i))
    print(f"  {runs:,} runs in {time.perf_counter() - started:.1f} s", flush=True)
    total, step, next_report, outputs_started = runs * per_run, max(1, runs // 20), 0, time.perf_counter()
    for first in range(0, runs, runs_per_transaction):
        with sessions.begin() as session:
            for i in range(first, min(runs, first + runs_per_transaction)):
                upsert_outputs(session, run_id=run_id(i), objects=run_objects(i, per_run), batch_size=1000)
                refresh_outputs_summary(session, run_id=run_id(i), indexed_at=EPOCH)
        done = min(runs, first + runs_per_transaction)
        if done >= next_report or done == runs:
            elapsed = time.perf_counter() - outputs_started
            print(
                f"  {done * per_run:>12,} / {total:,} rows, {elapsed:6.1f} s, "
                f"{done * per_run / elapsed:,.0f} rows/s ({load()})",
                flush=True,
            )
            next_report = done + step
    return time.perf_counter() - started


# -- the queries ----------------------------------------------------------------------
def queries(count: int, runs: int, per_run: int, seed: int) -> list[tuple[str, str]]:
    """(kind, text): about 32 % full URLs, 28 % file names, 24 % run prefixes, 8 % broad
    endings, 8 % no match; every fourth in changed case (the key's case only for URLs,
    as `tracker outputs info` wants a valid bucket name)."""
    rnd = random.Random(seed)
    files = math.ceil(per_run / SAMPLES)
    shares = [("full URL", 0.32), ("file name", 0.28), ("run prefix", 0.24), ("broad", 0.08), ("no match", 0.08)]
    plan = [kind for kind, share in shares for _ in range(max(1, round(count * share)))][:count]
    while len(plan) < count:
        plan.append("full URL")
    out = []
    for n, kind in enumerate(plan):
        i, j, k = rnd.randrange(runs), rnd.randrange(SAMPLES), rnd.randrange(files)
        if kind == "full URL":
            text = object_url(i, j, k)
        elif kind == "file name":
            text = file_name(i, j, k)
        elif kind == "run prefix":
            text = output_dir(i)
        elif kind == "broad":
            text = f"_{STEPS[k % len(STEPS)]}_{k // len(STEPS):03d}.bam"
        else:
            text = f"s3://lab-results-{i % BUCKETS}/runs/{run_name(i)}-rerun/{sample(i, j)}/{file_name(i, j, k)}"
        if n % 4 == 3:
            bucket, sep, key = text.partition("/runs/") if text.startswith("s3://") else ("", "", text)
            text = bucket + sep + (key.upper() if n % 8 == 3 else key.swapcase())
        out.append((kind, text))
    rnd.shuffle(out)
    return out


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def scan_sql(dialect: str) -> str:
    if dialect == "postgresql":
        return "SELECT DISTINCT run_id FROM outputs WHERE url ILIKE :p ESCAPE '\\'"
    return "SELECT DISTINCT run_id FROM outputs WHERE lower(url) LIKE lower(:p) ESCAPE '\\'"


def plans(lookup_engine: Any, scan_engine: Any, text: str) -> tuple[str, str]:
    """EXPLAIN of the lookup's outputs part and of the scan."""
    from sqlalchemy import select
    from sqlalchemy import text as sql

    from tracker.store.models import Output
    from tracker.store.textsearch import where_url_contains

    dialect = lookup_engine.dialect.name
    explain = "EXPLAIN" if dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    stmt = where_url_contains(select(Output.__table__.c.run_id), dialect, [text])
    compiled = stmt.compile(lookup_engine, compile_kwargs={"literal_binds": True})
    with lookup_engine.connect() as conn:
        rows = conn.exec_driver_sql(f"{explain} {compiled}").fetchall()
    lookup_plan = "\n".join(f"    {r[-1]}" for r in rows)
    with scan_engine.connect() as conn:
        rows = conn.execute(sql(f"{explain} {scan_sql(dialect)}"), {"p": f"%{escape_like(text)}%"}).fetchall()
    return lookup_plan, "\n".join(f"    {r[-1]}" for r in rows)


def measure(lookup_engine: Any, scan_engine: Any, mix: list[tuple[str, str]]) -> list[dict[str, Any]]:
    from sqlalchemy import text as sql

    from tracker.store.engine import session_factory
    from tracker.store.lookup import lookup_runs_by_url

    lookups, scans = session_factory(lookup_engine, readonly=True), session_factory(scan_engine, readonly=True)
    statement = sql(scan_sql(lookup_engine.dialect.name))

    def lookup(text: str) -> tuple[float, list[str]]:
        t0 = time.perf_counter()
        with lookups() as session:
            found = [r.id for r in lookup_runs_by_url(session, text=text, limit=100)]
        return time.perf_counter() - t0, found

    def scan(text: str) -> tuple[float, set[str]]:
        t0 = time.perf_counter()
        with scans() as session:
            found = set(session.scalars(statement, {"p": f"%{escape_like(text)}%"}))
        return time.perf_counter() - t0, found

    lookup(mix[0][1]), scan(mix[0][1])  # warm-up, not counted
    results = []
    for n, (kind, text) in enumerate(mix):
        if n % 2:
            s_seconds, s_ids = scan(text)
            l_seconds, l_ids = lookup(text)
        else:
            l_seconds, l_ids = lookup(text)
            s_seconds, s_ids = scan(text)
        agree = set(l_ids) == s_ids if len(s_ids) <= 100 else (len(l_ids) == 100 and set(l_ids) <= s_ids)
        results.append(
            {"kind": kind, "text": text, "lookup": l_seconds, "scan": s_seconds, "runs": len(s_ids), "agree": agree}
        )
    return results


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def times(ratio: float) -> str:
    return f"{ratio:,.1f}x" if ratio < 10 else f"{ratio:,.0f}x"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def report(engine_name: str, results: list[dict[str, Any]]) -> bool:
    lookup = [r["lookup"] for r in results]
    scan = [r["scan"] for r in results]
    print(f"  {engine_name}: {len(results)} queries ({load()})")
    print(
        f"    {'kind':<11} {'n':>3} {'runs':>9} {'lookup p50':>12} {'lookup max':>12} {'scan p50':>12} {'scan max':>12}"
    )
    for kind in dict.fromkeys(r["kind"] for r in results):
        rows = [r for r in results if r["kind"] == kind]
        found = sorted(r["runs"] for r in rows)
        print(
            f"    {kind:<11} {len(rows):>3} {f'{found[0]}-{found[-1]}':>9} "
            f"{ms(statistics.median(r['lookup'] for r in rows)):>12} {ms(max(r['lookup'] for r in rows)):>12} "
            f"{ms(statistics.median(r['scan'] for r in rows)):>12} {ms(max(r['scan'] for r in rows)):>12}"
        )
    l50, l99, s50, s99 = pct(lookup, 50), pct(lookup, 99), pct(scan, 50), pct(scan, 99)
    print(f"    all {len(results)} queries:")
    print(f"      lookup_runs_by_url: p50 {ms(l50)}, p99 {ms(l99)}, mean {ms(statistics.fmean(lookup))}")
    print(f"      plain scan:         p50 {ms(s50)}, p99 {ms(s99)}, mean {ms(statistics.fmean(scan))}")
    print(f"      ratio scan/lookup:  p50 {times(s50 / l50)}, p99 {times(s99 / l99)}")
    narrow = [r for r in results if r["kind"] != "broad"]
    if narrow and len(narrow) < len(results):
        lookup, scan = [r["lookup"] for r in narrow], [r["scan"] for r in narrow]
        l50, l99, s50, s99 = pct(lookup, 50), pct(lookup, 99), pct(scan, 50), pct(scan, 99)
        print(f"    without the broad endings ({len(narrow)} queries):")
        print(f"      lookup_runs_by_url: p50 {ms(l50)}, p99 {ms(l99)}, mean {ms(statistics.fmean(lookup))}")
        print(f"      plain scan:         p50 {ms(s50)}, p99 {ms(s99)}, mean {ms(statistics.fmean(scan))}")
        print(f"      ratio scan/lookup:  p50 {times(s50 / l50)}, p99 {times(s99 / l99)}")
    wrong = [r for r in results if not r["agree"]]
    for r in wrong:
        print(f"    DISAGREE: {r['kind']} {r['text']!r}", file=sys.stderr)
    return not wrong


# -- the engines ----------------------------------------------------------------------
def dataset_key(args: argparse.Namespace) -> dict[str, Any]:
    return {"rows": args.rows, "runs": args.runs, "buckets": BUCKETS, "samples": SAMPLES}


def open_dataset(name: str, args: argparse.Namespace, where: Path) -> tuple[Any, Any, Any, str]:
    """The engine (and the scan's engine, and the PostgreSQL server) of a built dataset in
    `where`: built now, or reused when `where` holds one built with the same shape. The
    schema is migrated to head either way (a reused dataset gets new migrations here)."""
    import json

    from tracker.store.engine import make_engine, migrate

    marker = where / "built.json"
    reuse = marker.exists() and json.loads(marker.read_text()).get("key") == dataset_key(args)
    if not reuse and where.exists() and any(where.iterdir()):
        raise SystemExit(f"{where} holds something else than this dataset: remove it first")
    where.mkdir(parents=True, exist_ok=True)
    server = None
    if name == "sqlite":
        url = scan_url = f"sqlite:///{where / 'index.db'}"
    else:
        from localcluster.postgres import PostgresServer

        t0 = time.perf_counter()
        (where / "postgres").mkdir(exist_ok=True)
        if os.geteuid() == 0:  # the server runs as `postgres`
            shutil.chown(where / "postgres", "postgres", "postgres")
        server = PostgresServer(base_dir=where / "postgres").start()
        if not reuse:
            server.drop_database("lookup_bench")
            server.create_database("lookup_bench")
        url = server.url("lookup_bench")
        scan_url = url + "?options=" + PG_NO_INDEX.replace(" ", "%20").replace("=", "%3D")
        print(f"  PostgreSQL {server.bin_dir.parent.name} ready in {time.perf_counter() - t0:.1f} s")
    engine, scan_engine = make_engine(url), make_engine(scan_url)
    t0 = time.perf_counter()
    migrate(engine)
    migrated = time.perf_counter() - t0
    if reuse:
        built = json.loads(marker.read_text())["built"]
        print(f"{name}: reusing the dataset in {where} ({built}); migrated to head in {migrated:.1f} s ({load()})")
    else:
        print(f"{name}: building {args.runs:,} runs x {args.rows // args.runs:,} outputs ({load()})", flush=True)
        seconds = build(engine, args.runs, args.rows // args.runs, args.runs_per_transaction)
        built = f"built in {seconds:.1f} s"
    t0 = time.perf_counter()
    if server is not None:
        with server.connect("lookup_bench") as conn:
            conn.execute("VACUUM ANALYZE")
            size = conn.execute(
                "SELECT pg_total_relation_size('outputs'), pg_database_size(current_database())"
            ).fetchone()
        extra = f"outputs table with indexes {size[0] / 2**30:.2f} GiB, database {size[2 - 1] / 2**30:.2f} GiB"
        analyzed = "VACUUM ANALYZE"
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        extra = f"index file {(where / 'index.db').stat().st_size / 2**30:.2f} GiB"
        analyzed = "ANALYZE"
    print(f"  {analyzed} {time.perf_counter() - t0:.1f} s; {extra} ({load()})", flush=True)
    if not reuse:
        marker.write_text(json.dumps({"key": dataset_key(args), "built": built}))
    return engine, scan_engine, server, built


def bench_engine(name: str, args: argparse.Namespace, mix: list[tuple[str, str]], where: Path) -> bool:
    from sqlalchemy import func, select
    from sqlalchemy import text as sql

    from tracker.store.models import Output

    engine, scan_engine, server = None, None, None
    try:
        engine, scan_engine, server, _ = open_dataset(name, args, where)
        with engine.connect() as conn:
            rows = conn.scalar(select(func.count()).select_from(Output))
        print(f"  {rows:,} output rows ({load()})", flush=True)
        if args.build_only:
            return True
        if server is not None:
            with scan_engine.connect() as conn:
                settings = [
                    conn.scalar(sql(f"SHOW {s}"))
                    for s in ("enable_bitmapscan", "enable_indexscan", "enable_indexonlyscan")
                ]
            print(f"  scan connections: enable_bitmapscan/indexscan/indexonlyscan = {'/'.join(settings)}")
        results = measure(engine, scan_engine, mix)
        return report(name, results)
    finally:
        for e in (engine, scan_engine):
            if e is not None:
                e.dispose()
        if server is not None:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="output rows in all")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument(
        "--runs-per-transaction", type=int, default=20, help="runs whose outputs one transaction upserts"
    )
    parser.add_argument("--db-dir", type=Path, default=None, help="where the temporary datasets go")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the built datasets here (one subdirectory per engine) and reuse them on the next run",
    )
    parser.add_argument("--build-only", action="store_true", help="build (or migrate) the datasets, measure nothing")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if unknown := set(engines) - {"sqlite", "postgres"}:
        parser.error(f"unknown engines {sorted(unknown)}")
    per_run = args.rows // args.runs
    mix = queries(args.queries, args.runs, per_run, args.seed)
    print(
        f"{args.rows:,} output rows ({args.runs:,} runs x {per_run:,}), {len(mix)} queries; "
        f"{os.cpu_count()} cores, {load()}"
    )
    print(f"example URL: {object_url(0, 0, 0)}")
    ok = True
    for name in engines:
        if args.data_dir is not None:
            ok = bench_engine(name, args, mix, args.data_dir / name) and ok
            continue
        with tempfile.TemporaryDirectory(prefix="wt-bench-lookup-", dir=args.db_dir) as tmp:
            os.chmod(tmp, 0o755)  # PostgreSQL runs as `postgres` under root
            ok = bench_engine(name, args, mix, Path(tmp) / name) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
