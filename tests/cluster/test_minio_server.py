"""The local MinIO server (for benchmarks at scale) serves S3, fills a prefix exactly,
and stops without leaving a process or its data behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcluster.minio import MinioServer, fill_prefix
from localcluster.s3server import object_body, put_objects

# The first run builds MinIO from its Go module (minutes, then cached): allow for it.
pytestmark = [pytest.mark.s3, pytest.mark.minio, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def minio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MinioServer]:
    server = MinioServer(log_dir=tmp_path_factory.mktemp("minio")).start()
    try:
        yield server
    finally:
        server.stop()


def _keys(server: MinioServer, bucket: str, prefix: str = "", page_size: int = 1000) -> list[str]:
    pages = (
        server.client()
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size})
    )
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def test_round_trip_put_list_get_delete(minio: MinioServer) -> None:
    client = minio.client()
    client.create_bucket(Bucket="round-trip")
    sizes = {f"run-1/out/file-{i:02d}.txt": i * 1000 for i in range(25)}
    sizes["run-1/out/empty"] = 0
    put_objects(client, "round-trip", sizes)

    listed = {
        o["Key"]: o["Size"]
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket="round-trip", PaginationConfig={"PageSize": 10}
        )
        for o in page.get("Contents", [])
    }
    assert listed == sizes
    for key, size in sizes.items():
        assert client.get_object(Bucket="round-trip", Key=key)["Body"].read() == object_body(key, size)

    response = client.delete_objects(
        Bucket="round-trip", Delete={"Objects": [{"Key": key} for key in sizes], "Quiet": True}
    )
    assert response.get("Errors", []) == []
    assert _keys(minio, "round-trip") == []


def test_fill_prefix_lists_back_exactly(minio: MinioServer) -> None:
    client = minio.client()
    client.create_bucket(Bucket="filled")
    client.put_object(Bucket="filled", Key="runs/run-10/neighbour", Body=b"x")

    assert fill_prefix(minio, "filled", "runs/run-1/", 2000, size=37) == 2000

    keys = _keys(minio, "filled", prefix="runs/run-1/")
    assert keys == [f"runs/run-1/obj-{i:06d}" for i in range(2000)]
    sample = client.get_object(Bucket="filled", Key="runs/run-1/obj-001234")
    assert sample["Body"].read() == object_body("runs/run-1/obj-001234", 37)
    assert _keys(minio, "filled", prefix="runs/run-10/") == ["runs/run-10/neighbour"]


def test_fill_prefix_refuses_keys_minio_would_rename(minio: MinioServer) -> None:
    with pytest.raises(ValueError, match="normalised"):
        fill_prefix(minio, "any-bucket", "runs//run-1/", 1)


def test_stop_leaves_no_process_and_no_data(tmp_path: Path) -> None:
    server = MinioServer(log_dir=tmp_path).start()
    server.client().create_bucket(Bucket="doomed")
    pid, data_dir = server.pid, server.data_dir
    assert data_dir.is_dir()

    server.stop()

    assert not server.process.running()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert not data_dir.exists()
    assert (tmp_path / "minio.log").exists()
