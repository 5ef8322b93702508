"""Latency of the `tracker outputs info` lookup and of `outputs search` over millions of output rows, against a plain scan.

    .venv/bin/python benchmarks/lookup_latency.py                                   # 10,000,000 rows, SQLite and PostgreSQL
    .venv/bin/python benchmarks/lookup_latency.py --data-dir /var/tmp/lookups       # keep the datasets, reuse them next time
    .venv/bin/python benchmarks/lookup_latency.py --rows 200000 --runs 1000 --engines sqlite    # a quick look

The index is built with the project's own store functions: `upsert_run` for every run
(with a process table), then `upsert_outputs` for each run's objects, many runs per
transaction, into an SQLite file (`make_engine` + `migrate`) and into a PostgreSQL
database on a `localcluster.postgres.PostgresServer` (its default settings: fsync
off, shared_buffers 128 MB). URLs look like
`s3://lab-results-<n>/runs/<run-name>/<sample>/<sample>_<step>_<k>.bam`, over 5
buckets (so a bucket prefix matches 2,000 of 10,000 runs). With `--data-dir` the
built datasets stay there and a later run with the same shape reuses them (migrated
to head first, so new indexes are built on the kept data).

Measured, in a read-only session from `session_factory(engine, readonly=True)`, one
session per call, without the HTTP hop:
- `tracker.store.lookup.lookup_runs_by_url(session, text=..., limit=100)`: what
  `GET /api/v1/outputs/lookup` (the route `tracker outputs info` calls) runs; it
  returns full run records (with processes), newest first.
- `tracker.store.lookup.search_outputs(session, words=..., limit=100, count_limit=200)`:
  what `GET /api/v1/outputs/search` runs for a first page (it counts up to 100 past
  the page), the rows with their run names, ordered by URL.

The peer is a plain scan of the same outputs table on the same data, in the same kind
of session: for the lookup `SELECT DISTINCT run_id FROM outputs WHERE lower(url) LIKE
lower(:p) ESCAPE '\\'` on SQLite, `... WHERE url ILIKE :p ESCAPE '\\'` on PostgreSQL
(`p` = `%text%`, text escaped so both sides answer the same question); for the search
`SELECT url, count(*) OVER () FROM outputs WHERE <each word> ORDER BY url, id LIMIT 100`.
On PostgreSQL the scan's connections carry `enable_bitmapscan=off,
enable_indexscan=off, enable_indexonlyscan=off`, so the planner can use no index: it
is the table's own sequential scan (parallel workers allowed), on the same table and
buffers. The script prints the scans' plans. The lookup scan returns only run ids,
so it does less work per match than the lookup.

Query kinds (random, fixed seed; `--per-kind` lookups and `--search-per-kind` searches
of each): a full object URL, a file name (sample-specific, so one run), a run prefix
(the run's outputDir), a bucket prefix (`s3://lab-results-<n>/`: 2,000 runs), a
file-name ending every run has (`_markdup_004.bam`), a URL that matches nothing (under
a `<run-name>-rerun/` prefix next to a real run), and for the search also a run name
with a step (two words); every fourth in changed case. `tracker outputs info` itself
only accepts s3:// URLs; file names and endings are what the same API route gets from
other callers. Each query is timed once per method with time.perf_counter, the two
methods alternating, after one uncounted warm-up of each; the answers are checked
against each other (the lookup: the newest 100 of the scan's runs, in order; the
search: the same page and the same total, capped at 200). Percentiles are nearest
rank: with 10 queries of a kind, p99 is the slowest.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
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
LOOKUP_KINDS = ("full URL", "file name", "run prefix", "bucket prefix", "broad ending", "no match")
SEARCH_KINDS = ("full URL", "file name", "run prefix", "run + step", "bucket prefix", "broad ending", "no match")
PAGE = 100


def changed_case(text: str, n: int) -> str:
    """The key's case changed (upper, or swapped); a URL's bucket stays as S3 has it."""
    bucket, sep, key = text.partition("/runs/") if text.startswith("s3://") else ("", "", text)
    return bucket + sep + (key.upper() if n % 2 else key.swapcase())


def texts(kind: str, rnd: random.Random, runs: int, per_run: int) -> list[str]:
    """The words of one query of `kind` (one word for a lookup)."""
    files = math.ceil(per_run / SAMPLES)
    i, j, k = rnd.randrange(runs), rnd.randrange(SAMPLES), rnd.randrange(files)
    if kind == "full URL":
        return [object_url(i, j, k)]
    if kind == "file name":
        return [file_name(i, j, k)]
    if kind == "run prefix":
        return [output_dir(i)]
    if kind == "bucket prefix":
        return [f"s3://lab-results-{i % BUCKETS}/"]
    if kind == "broad ending":
        return [f"_{STEPS[k % len(STEPS)]}_{k // len(STEPS):03d}.bam"]
    if kind == "run + step":
        return [run_name(i), STEPS[k % len(STEPS)]]
    return [f"s3://lab-results-{i % BUCKETS}/runs/{run_name(i)}-rerun/{sample(i, j)}/{file_name(i, j, k)}"]


def queries(kinds: tuple[str, ...], per_kind: int, runs: int, per_run: int, seed: int) -> list[tuple[str, list[str]]]:
    """(kind, words): `per_kind` of each kind, every fourth in changed case, shuffled."""
    rnd = random.Random(seed)
    out = []
    for kind in kinds:
        for n in range(per_kind):
            words = texts(kind, rnd, runs, per_run)
            if n % 4 == 3:
                words = [changed_case(w, n // 4) for w in words]
            out.append((kind, words))
    rnd.shuffle(out)
    return out


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches_sql(dialect: str, count: int) -> str:
    """The plain scan's condition for `count` words :p0, :p1, ..."""
    if dialect == "postgresql":
        return " AND ".join(f"url ILIKE :p{n} ESCAPE '\\'" for n in range(count))
    return " AND ".join(f"lower(url) LIKE lower(:p{n}) ESCAPE '\\'" for n in range(count))


def patterns(words: list[str]) -> dict[str, str]:
    return {f"p{n}": f"%{escape_like(w)}%" for n, w in enumerate(words)}


def lookup_scan_sql(dialect: str) -> str:
    return f"SELECT DISTINCT run_id FROM outputs WHERE {matches_sql(dialect, 1)}"  # noqa: S608 (fixed parts)


def search_scan_sql(dialect: str, count: int) -> str:
    return (
        f"SELECT url, count(*) OVER () FROM outputs WHERE {matches_sql(dialect, count)} "  # noqa: S608 (fixed parts)
        "ORDER BY url, id LIMIT 100"
    )


def show_plans(scan_engine: Any) -> None:
    from sqlalchemy import text as sql

    dialect = scan_engine.dialect.name
    explain = "EXPLAIN" if dialect == "postgresql" else "EXPLAIN QUERY PLAN"
    with scan_engine.connect() as conn:
        for what, statement, words in (
            ("lookup", lookup_scan_sql(dialect), ["x.bam"]),
            ("search", search_scan_sql(dialect, 2), ["x", "y"]),
        ):
            rows = conn.execute(sql(f"{explain} {statement}"), patterns(words)).fetchall()
            shown = "\n".join(f"    {r[-1]}" for r in rows)
            print(f"  plan of the plain scan ({what}):\n{shown}")


def measure(
    lookup_engine: Any, scan_engine: Any, lookups: list[tuple[str, list[str]]], searches: list[tuple[str, list[str]]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from sqlalchemy import select
    from sqlalchemy import text as sql

    from tracker.api.deps import COUNT_AHEAD
    from tracker.store.engine import session_factory
    from tracker.store.lookup import lookup_runs_by_url, search_outputs
    from tracker.store.models import Run

    cap = PAGE + COUNT_AHEAD  # what GET /api/v1/outputs/search passes for the first page

    ours, plain = session_factory(lookup_engine, readonly=True), session_factory(scan_engine, readonly=True)
    dialect = lookup_engine.dialect.name
    with ours() as session:
        created = dict(session.execute(select(Run.id, Run.created_at)).all())

    def lookup(words: list[str]) -> tuple[float, Any]:
        t0 = time.perf_counter()
        with ours() as session:
            found = [r.id for r in lookup_runs_by_url(session, text=words[0], limit=100)]
        return time.perf_counter() - t0, found

    def lookup_scan(words: list[str]) -> tuple[float, Any]:
        t0 = time.perf_counter()
        with plain() as session:
            found = set(session.scalars(sql(lookup_scan_sql(dialect)), patterns(words)))
        return time.perf_counter() - t0, found

    def search(words: list[str]) -> tuple[float, Any]:
        t0 = time.perf_counter()
        with ours() as session:
            matches, total = search_outputs(session, words=words, limit=PAGE, count_limit=cap)
            urls = [m.object.url for m in matches]
        return time.perf_counter() - t0, (urls, total)

    def search_scan(words: list[str]) -> tuple[float, Any]:
        t0 = time.perf_counter()
        with plain() as session:
            rows = session.execute(sql(search_scan_sql(dialect, len(words))), patterns(words)).all()
        return time.perf_counter() - t0, ([r[0] for r in rows], rows[0][1] if rows else 0)

    def agree_lookup(mine: list[str], theirs: set[str]) -> bool:
        newest = sorted(theirs, key=lambda r: (-created[r].timestamp(), r))[:100]
        return mine == newest

    def agree_search(mine: tuple[list[str], int], theirs: tuple[list[str], int]) -> bool:
        return mine[0] == theirs[0] and mine[1] == min(theirs[1], cap)

    def run(mix: list[tuple[str, list[str]]], ours_: Any, theirs_: Any, agree: Any, size: Any) -> list[dict[str, Any]]:
        ours_(mix[0][1]), theirs_(mix[0][1])  # warm-up, not counted
        results = []
        for n, (kind, words) in enumerate(mix):
            if n % 2:
                t_seconds, t_answer = theirs_(words)
                o_seconds, o_answer = ours_(words)
            else:
                o_seconds, o_answer = ours_(words)
                t_seconds, t_answer = theirs_(words)
            results.append(
                {
                    "kind": kind,
                    "words": words,
                    "ours": o_seconds,
                    "scan": t_seconds,
                    "found": size(t_answer),
                    "agree": agree(o_answer, t_answer),
                }
            )
        return results

    looked = run(lookups, lookup, lookup_scan, agree_lookup, len)
    searched = run(searches, search, search_scan, agree_search, lambda answer: answer[1])
    return looked, searched


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def times(ratio: float) -> str:
    return f"{ratio:,.1f}x" if ratio < 10 else f"{ratio:,.0f}x"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def report(engine_name: str, what: str, results: list[dict[str, Any]]) -> bool:
    print(f"  {engine_name}, {what}: {len(results)} queries ({load()})")
    print(
        f"    {'kind':<14} {'n':>3} {'found':>13} {'p50':>10} {'p99':>10} {'scan p50':>11} {'scan p99':>11} "
        f"{'ratio p50':>10} {'ratio p99':>10}"
    )
    kinds = [*dict.fromkeys(r["kind"] for r in results), "all"]
    for kind in kinds:
        rows = results if kind == "all" else [r for r in results if r["kind"] == kind]
        found = sorted(r["found"] for r in rows)
        ours, scan = [r["ours"] for r in rows], [r["scan"] for r in rows]
        o50, o99, s50, s99 = pct(ours, 50), pct(ours, 99), pct(scan, 50), pct(scan, 99)
        print(
            f"    {kind:<14} {len(rows):>3} {f'{found[0]:,}-{found[-1]:,}':>13} {ms(o50):>10} {ms(o99):>10} "
            f"{ms(s50):>11} {ms(s99):>11} {times(s50 / o50):>10} {times(s99 / o99):>10}"
        )
    wrong = [r for r in results if not r["agree"]]
    for r in wrong:
        print(f"    DISAGREE: {what} {r['kind']} {r['words']!r}", file=sys.stderr)
    print(f"    answers: {len(results) - len(wrong)} of {len(results)} the same as the plain scan's")
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


def bench_engine(name: str, args: argparse.Namespace, mixes: Any, where: Path) -> bool:
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
        show_plans(scan_engine)
        looked, searched = measure(engine, scan_engine, *mixes)
        ok = report(name, "lookup_runs_by_url", looked)
        return report(name, "search_outputs (first page, counted to 200)", searched) and ok
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
    parser.add_argument("--per-kind", type=int, default=10, help="lookups of each kind")
    parser.add_argument("--search-per-kind", type=int, default=5, help="searches of each kind")
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
    mixes = (
        queries(LOOKUP_KINDS, args.per_kind, args.runs, per_run, args.seed),
        queries(SEARCH_KINDS, args.search_per_kind, args.runs, per_run, args.seed + 1),
    )
    print(
        f"{args.rows:,} output rows ({args.runs:,} runs x {per_run:,}), {len(mixes[0])} lookups and "
        f"{len(mixes[1])} searches; "
        f"{os.cpu_count()} cores, {load()}"
    )
    print(f"example URL: {object_url(0, 0, 0)}")
    ok = True
    for name in engines:
        if args.data_dir is not None:
            ok = bench_engine(name, args, mixes, args.data_dir / name) and ok
            continue
        with tempfile.TemporaryDirectory(prefix="wt-bench-lookup-", dir=args.db_dir) as tmp:
            if name == "postgres" and os.geteuid() == 0:  # the server runs as `postgres`
                shutil.chown(tmp, "postgres", "postgres")
            ok = bench_engine(name, args, mixes, Path(tmp) / name) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
