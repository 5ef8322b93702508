"""The S3 engines on one shard's key range (tracker.domain.shards), against the local
S3 server: each range touches exactly its keys, the ranges together all of the prefix,
and nothing outside it; versions and copies too."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from localcluster.s3server import S3Server, object_body, put_objects
from tracker.domain.s3url import S3Url
from tracker.domain.shards import KeyRange, boundary_offsets, ranges_from_boundaries
from tracker.s3.copy import move_prefix
from tracker.s3.delete import delete_prefix

pytestmark = pytest.mark.s3
UNDER = {
    "plain.txt": 10,
    "with space/and  two.txt": 11,
    "unicode/é漢字 😀.bam": 12,
    "percent/%41%2F%.txt": 13,
    "dots/../escape.txt": 14,
    "double//slash": 15,
    "folder/": 0,
    "$(HOME)/x": 16,
    **{f"bulk/{i:04d}": 3 for i in range(2300)},
}
NEIGHBOURS = {"run-10/sample.bam": 20, "run-1.txt": 21, "run-1": 22, "run-/x": 24}


def keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def three_ranges(indexed: list[str]) -> list[KeyRange]:
    """Cut as admission cuts them: at equal-count boundaries of the indexed keys."""
    ordered = sorted(indexed)
    return ranges_from_boundaries([ordered[o] for o in boundary_offsets(len(ordered), 3)])


def test_each_range_deletes_exactly_its_keys_and_together_all(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    put_objects(client, s3_bucket, {f"run-1/{k}": s for k, s in UNDER.items()} | NEIGHBOURS)
    # The index knows only the bulk keys: the others (listed first and last) still fall in a range.
    ranges = three_ranges([k for k in UNDER if k.startswith("bulk/")])
    remaining = set(UNDER)
    for key_range in ranges:
        mine = {k for k in remaining if key_range.holds(k)}
        result = delete_prefix(client, S3Url(s3_bucket, "run-1/"), key_range=key_range, page_size=300)
        assert (result.objects_deleted, result.bytes_deleted) == (len(mine), sum(UNDER[k] for k in mine))
        remaining -= mine
        assert keys(client, s3_bucket, "run-1/") == sorted(f"run-1/{k}" for k in remaining)
    assert remaining == set()
    assert keys(client, s3_bucket) == sorted(NEIGHBOURS)


def test_a_dry_run_of_a_range_counts_only_its_keys(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    put_objects(client, s3_bucket, {f"run-1/{k}": 1 for k in ("a", "b", "c", "d", "e")})
    result = delete_prefix(client, S3Url(s3_bucket, "run-1/"), key_range=KeyRange("a", "c"), dry_run=True)
    assert result.objects_found == 2
    assert len(keys(client, s3_bucket, "run-1/")) == 5


def test_a_range_of_a_versioned_bucket_removes_every_version_of_its_keys(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    client.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    for round_ in range(3):
        put_objects(client, s3_bucket, {f"run-1/f{i:02d}": 10 + round_ for i in range(12)})
    client.delete_object(Bucket=s3_bucket, Key="run-1/f05")  # a delete marker on top

    def versions() -> list[str]:
        pages = client.get_paginator("list_object_versions").paginate(Bucket=s3_bucket, Prefix="run-1/")
        return sorted(v["Key"] for p in pages for v in p.get("Versions", []) + p.get("DeleteMarkers", []))

    middle = KeyRange(after="f03", upto="f07")  # f04..f07
    result = delete_prefix(client, S3Url(s3_bucket, "run-1/"), key_range=middle, page_size=5)
    assert (result.objects_deleted, result.versions_deleted) == (3, 4 * 3 + 1)
    assert sorted(set(versions())) == [f"run-1/f{i:02d}" for i in range(12) if not 4 <= i <= 7]


def test_moving_range_by_range_lands_everything_once(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    destination = f"dest-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=destination)
    sources = {k: s for k, s in UNDER.items() if not k.startswith("bulk/") or k < "bulk/0300"}
    put_objects(client, s3_bucket, {f"run-1/{k}": s for k, s in sources.items()} | NEIGHBOURS)
    copied = deleted = 0
    for key_range in three_ranges(list(sources)):
        result = move_prefix(
            client, S3Url(s3_bucket, "run-1/"), S3Url(destination, "moved/"), key_range=key_range, page_size=100
        )
        assert result.objects_copied == result.objects_deleted == sum(key_range.holds(k) for k in sources)
        copied, deleted = copied + result.objects_copied, deleted + result.objects_deleted
    assert copied == deleted == len(sources)
    assert keys(client, s3_bucket, "run-1/") == []
    assert keys(client, destination) == sorted(f"moved/{k}" for k in sources)
    assert client.get_object(Bucket=destination, Key="moved/plain.txt")["Body"].read() == object_body(
        "run-1/plain.txt", 10
    )
    assert keys(client, s3_bucket) == sorted(NEIGHBOURS)
