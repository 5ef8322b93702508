"""The local S3 server behaves like S3 for what the tracker uses, and stops cleanly."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from localcluster.s3server import S3Server, object_body, put_objects

pytestmark = pytest.mark.s3


def _listed(server: S3Server, bucket: str, prefix: str = "", page_size: int = 1000) -> list[list[dict[str, Any]]]:
    """ListObjectsV2 page by page: one list of objects per page."""
    pages = (
        server.client()
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size})
    )
    return [page.get("Contents", []) for page in pages]


def test_round_trip_put_list_get_delete(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    sizes = {f"run-1/out/file-{i:02d}.txt": i * 1000 for i in range(25)}
    sizes["run-1/out/empty"] = 0
    sizes["run-1/big.bam"] = 3 * 1024 * 1024
    put_objects(client, s3_bucket, sizes)

    pages = _listed(s3_server, s3_bucket, page_size=10)
    assert [len(page) for page in pages] == [10, 10, 7]
    assert {o["Key"]: o["Size"] for page in pages for o in page} == sizes

    for key, size in sizes.items():
        assert client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == object_body(key, size)

    response = client.delete_objects(
        Bucket=s3_bucket, Delete={"Objects": [{"Key": key} for key in sizes], "Quiet": True}
    )
    assert response.get("Errors", []) == []
    assert _listed(s3_server, s3_bucket) == [[]]


def test_bulk_put_lists_back_exactly(s3_server: S3Server, s3_bucket: str) -> None:
    keys = put_objects(s3_server.client(), s3_bucket, count=3000, prefix="bulk/", size=8)

    listed = [o for page in _listed(s3_server, s3_bucket, prefix="bulk/") for o in page]
    assert [o["Key"] for o in listed] == sorted(keys)
    assert len(set(keys)) == 3000
    assert {o["Size"] for o in listed} == {8}


def test_any_credentials_are_accepted(s3_server: S3Server, s3_bucket: str) -> None:
    s3_server.client().put_object(Bucket=s3_bucket, Key="k", Body=b"v")
    stranger = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id="someone-else",
        aws_secret_access_key="not-the-secret",
        region_name=s3_server.region,
        config=Config(s3={"addressing_style": "path"}),
    )
    assert stranger.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"v"


def test_reset_then_stop_leaves_nothing_behind(tmp_path: Path) -> None:
    server = S3Server(log_dir=tmp_path).start()
    client = server.client()
    client.create_bucket(Bucket="doomed")
    server.reset()
    assert client.list_buckets()["Buckets"] == []
    pid = server.pid

    server.stop()

    assert not server.process.running()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
