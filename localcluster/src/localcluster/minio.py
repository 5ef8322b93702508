"""A local MinIO server on loopback, and a fast way to fill a prefix with objects.

For benchmarks at 100,000+ objects: moto's ListObjectsV2 costs O(objects in the bucket)
per page, MinIO's does not, so what is measured is the tracker, not the test server.
`MinioServer` has the public surface of `S3Server` (endpoint, keys, region, `client()`).
The binary is built from its Go module by scripts/build-minio.sh (cached) unless
`TRACKER_MINIO_BIN` names one.
"""

from __future__ import annotations

import functools
import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from localcluster.processes import ManagedProcess, free_port
from localcluster.repo import repo_root
from localcluster.s3server import S3Client, local_client, object_body

# What MinIO reads from its environment that would change how this server behaves.
_OWN_ENV_PREFIX = "MINIO_"
# MinIO syncs every object it writes (O_DSYNC, O_DIRECT): on tmpfs that costs nothing,
# which makes filling a bucket several times faster. Data lives there when it can.
_FAST_TMP = Path("/dev/shm")


@functools.cache
def minio_binary() -> Path:
    """The `minio` executable: `TRACKER_MINIO_BIN`, or the cached build (built first
    if needed, which takes minutes once)."""
    override = os.environ.get("TRACKER_MINIO_BIN")
    if override:
        return Path(override)
    build_script = repo_root() / "scripts" / "build-minio.sh"
    result = subprocess.run([str(build_script)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(result.stdout.strip().splitlines()[-1]) / "minio"


class MinioServer:
    """`minio server` on 127.0.0.1 with a fresh data directory; `start()` returns once
    it serves S3 requests, `stop()` removes the data.

    Without `log_dir` the log goes to a temporary directory that `stop()` removes.
    """

    access_key = "tracker-minio"
    secret_key = "tracker-minio-secret"
    region = "us-east-1"

    def __init__(self, *, log_dir: Path | None = None, tied_to_parent: bool = True) -> None:
        self.port = free_port()
        self.console_port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._home = Path(tempfile.mkdtemp(prefix="wt-minio-", dir=_fast_tmp()))
        self.data_dir = self._home / "data"
        log_dir = log_dir or self._home
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_ENV_PREFIX)}
        env.update(MINIO_ROOT_USER=self.access_key, MINIO_ROOT_PASSWORD=self.secret_key,
                   MINIO_REGION=self.region, MINIO_UPDATE="off")  # fmt: skip
        argv = [str(minio_binary()), "server", str(self.data_dir), "--quiet",
                "--address", f"127.0.0.1:{self.port}", "--console-address", f"127.0.0.1:{self.console_port}",
                "--certs-dir", str(self._home / "certs")]  # fmt: skip
        self.process = ManagedProcess(
            name="minio",
            argv=argv,
            log_path=log_dir / "minio.log",
            env=env,
            tied_to_parent=tied_to_parent,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, timeout: float = 60.0) -> MinioServer:
        try:
            self.process.start_until(self._serving, timeout=timeout, what=f"MinIO at {self.endpoint_url}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server and remove its data (and its log, unless `log_dir` was given)."""
        self.process.stop()
        shutil.rmtree(self._home, ignore_errors=True)

    def _serving(self) -> bool:
        """Live, and past initialising its object layer (until then the liveness check
        answers 200 with `x-minio-server-status: offline` and S3 calls fail)."""
        with urllib.request.urlopen(self.endpoint_url + "/minio/health/live", timeout=1) as response:
            return response.status == 200 and response.headers.get("x-minio-server-status") is None

    def client(self, *, max_pool_connections: int = 64) -> S3Client:
        """A boto3 S3 client for this server: path-style, signed with the root keys."""
        return local_client(
            self.endpoint_url, self.access_key, self.secret_key, self.region, max_pool_connections=max_pool_connections
        )


def _fast_tmp() -> Path | None:
    return _FAST_TMP if _FAST_TMP.is_dir() and os.access(_FAST_TMP, os.W_OK | os.X_OK) else None


FILL_CHUNK = 10_000  # objects per archive (about 10 MB for 100-byte objects)
FILL_REQUESTS = 2  # archives in flight; MinIO stores 16 members of each at once


def fill_prefix(server: MinioServer, bucket: str, prefix: str, count: int, size: int = 100) -> int:
    """Create `count` objects `<prefix>obj-000000`, ... of `size` bytes (bodies from
    `object_body`, as `put_objects` makes them) in an existing bucket; returns `count`.

    Uses MinIO's bulk upload: each PutObject carries a tar of FILL_CHUNK objects with
    `X-Amz-Meta-Snowball-Auto-Extract: true`, and MinIO stores every member as an
    ordinary object (the archive itself is not kept). Measured against one PutObject per
    object, from boto3 threads or from s5cmd, it is the fastest here (benchmarks/RESULTS.md).
    """
    if count < 0 or size < 0:
        raise ValueError("count and size must not be negative")
    sample = f"{prefix}obj-{0:06d}"
    if sample.startswith("/") or posixpath.normpath(sample) != sample:
        raise ValueError(f"prefix {prefix!r}: MinIO would store the keys under a normalised name")
    client = server.client(max_pool_connections=FILL_REQUESTS)
    extract = {"snowball-auto-extract": "true", "minio-snowball-ignore-dirs": "true"}

    def send(start: int) -> int:
        stop = min(count, start + FILL_CHUNK)
        client.put_object(Bucket=bucket, Key=f"{prefix}obj-{start:06d}.tar",
                          Body=_tarball(prefix, range(start, stop), size), Metadata=extract)  # fmt: skip
        return stop - start

    with ThreadPoolExecutor(max_workers=FILL_REQUESTS) as pool:
        return sum(pool.map(send, range(0, count, FILL_CHUNK)))


def _tarball(prefix: str, numbers: range, size: int) -> bytes:
    """An uncompressed tar of the objects `<prefix>obj-NNNNNN` for `numbers`."""
    parts: list[bytes] = []
    mtime = int(time.time())
    padding = b"\0" * (-size % tarfile.BLOCKSIZE)
    for i in numbers:
        key = f"{prefix}obj-{i:06d}"
        member = tarfile.TarInfo(key)
        member.size, member.mtime = size, mtime
        parts += (member.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"), object_body(key, size), padding)
    parts.append(b"\0" * (2 * tarfile.BLOCKSIZE))  # end of archive
    return b"".join(parts)
