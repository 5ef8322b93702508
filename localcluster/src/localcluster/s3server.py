"""A local S3 server (moto in server mode) on loopback, and a fast bulk uploader.

Tests, benchmarks and the local dev system talk to it with ordinary boto3 clients:
`S3Server.client()` returns one with path-style addressing, and `put_objects` fills a
bucket with thousands of small objects through a pool of concurrent PutObject calls.
moto accepts any credentials, so the fixed test key pair is only there to be signed with.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from localcluster.processes import ManagedProcess, free_port

if TYPE_CHECKING:
    # The stubs (a dev dependency) type the client boto3 generates at runtime.
    from mypy_boto3_s3 import S3Client as S3Client
else:
    S3Client = Any
# Settings that would make moto check credentials or policies; the server must not.
_AUTH_ENV = ("INITIAL_NO_AUTH_ACTION_COUNT", "MOTO_ENABLE_IAM_AUTH")


class S3Server:
    """moto's S3 as a child process on 127.0.0.1; `start()` returns once it answers.

    Without `log_dir` the log goes to a temporary directory that `stop()` removes.
    """

    access_key = "test-access-key"
    secret_key = "test-secret-key"
    region = "us-east-1"

    def __init__(self, *, log_dir: Path | None = None, tied_to_parent: bool = True) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._own_log_dir: Path | None = None
        if log_dir is None:
            log_dir = self._own_log_dir = Path(tempfile.mkdtemp(prefix="wt-s3-"))
        env = {k: v for k, v in os.environ.items() if k not in _AUTH_ENV}
        self.process = ManagedProcess(
            name="s3-server",
            argv=[sys.executable, "-m", __name__, "-H", "127.0.0.1", "-p", str(self.port)],
            log_path=log_dir / "s3-server.log",
            env=env,
            tied_to_parent=tied_to_parent,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, timeout: float = 30.0) -> S3Server:
        try:
            self.process.start_until(self._answers, timeout=timeout, what=f"the S3 server at {self.endpoint_url}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (all data is lost) and remove a log directory it made itself."""
        self.process.stop()
        if self._own_log_dir is not None:
            shutil.rmtree(self._own_log_dir, ignore_errors=True)

    def _answers(self) -> bool:
        with urllib.request.urlopen(self.endpoint_url + "/", timeout=1) as response:
            return bool(response.status == 200)

    def reset(self) -> None:
        """Forget every bucket and object (moto's reset endpoint)."""
        request = urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def client(self, *, max_pool_connections: int = 64) -> S3Client:
        """A boto3 S3 client for this server: path-style, signed with the test keys."""
        return local_client(
            self.endpoint_url, self.access_key, self.secret_key, self.region, max_pool_connections=max_pool_connections
        )


def local_client(
    endpoint_url: str, access_key: str, secret_key: str, region: str, *, max_pool_connections: int = 64
) -> S3Client:
    """A boto3 S3 client for a local server (path-style addressing, standard retries)."""
    config = Config(
        s3={"addressing_style": "path"},
        max_pool_connections=max_pool_connections,
        retries={"max_attempts": 3, "mode": "standard"},
        request_checksum_calculation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=config,
    )


def object_body(key: str, size: int) -> bytes:
    """Deterministic content of `size` bytes for `key`, so reads can be checked."""
    seed = key.encode() + b"\n"
    return (seed * (size // len(seed) + 1))[:size]


def put_objects(
    client: S3Client,
    bucket: str,
    keys_and_sizes: Mapping[str, int] | Iterable[tuple[str, int]] | None = None,
    *,
    count: int = 0,
    prefix: str = "",
    size: int = 16,
    workers: int = 16,
) -> list[str]:
    """PUT many objects concurrently; returns their keys in the order given.

    Either name the objects (`keys_and_sizes`) or ask for `count` objects of `size`
    bytes named `<prefix>obj-000000` and up. Bodies come from `object_body`. The client
    needs `max_pool_connections >= workers` to really run them in parallel.
    """
    if keys_and_sizes is None:
        objects = [(f"{prefix}obj-{i:06d}", size) for i in range(count)]
    elif isinstance(keys_and_sizes, Mapping):
        objects = list(keys_and_sizes.items())
    else:
        objects = list(keys_and_sizes)

    def put(key_and_size: tuple[str, int]) -> str:
        key, length = key_and_size
        client.put_object(Bucket=bucket, Key=key, Body=object_body(key, length))
        return key

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(put, objects))


SEED_PATH = "/_localcluster/seed"


def seed_objects(server: S3Server, bucket: str, *, prefix: str, count: int, size: int = 16) -> int:
    """Create `count` objects `<prefix>obj-000000`... inside the server process.

    For fixtures and benchmarks that need hundreds of thousands of objects: PutObject
    through HTTP costs the server about 2 ms each, this about 20 µs. What is measured
    afterwards (listing, deleting, copying) still goes through the S3 protocol.
    """
    query = urllib.parse.urlencode({"bucket": bucket, "prefix": prefix, "count": count, "size": size})
    request = urllib.request.Request(f"{server.endpoint_url}{SEED_PATH}?{query}", method="POST")
    with urllib.request.urlopen(request, timeout=600) as response:
        return int(response.read())


def _seeding(app: Any) -> Any:
    """WSGI middleware answering SEED_PATH by writing straight into moto's S3 backend."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != SEED_PATH:
            return app(environ, start_response)
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        bucket, prefix = query["bucket"][0], query.get("prefix", [""])[0]
        count, size = int(query["count"][0]), int(query.get("size", ["16"])[0])
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        for i in range(count):
            key = f"{prefix}obj-{i:06d}"
            backend.put_object(bucket, key, object_body(key, size), disable_notification=True)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(count).encode()]

    return middleware


def serve(argv: list[str] | None = None) -> None:
    """The child process: moto's S3 server, made cheaper per request, plus seeding.

    werkzeug's log line per request goes, and so does moto's listing of its own package
    directory on every request (about a fifth of the server's CPU in bulk puts).
    """
    import argparse

    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, _seeding(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    serve()
