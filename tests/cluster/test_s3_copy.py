"""copy_prefix and move_prefix against the local S3 server, through the fault proxy where it counts."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from localcluster.s3server import S3Server, object_body, put_objects
from tracker.domain.fence import BucketRoot, OverlappingPrefixes
from tracker.domain.s3url import S3Url
from tracker.s3.copy import CopyResult, copy_prefix, move_prefix
from tracker.s3.errors import (
    AccessDenied,
    CopyNotVerified,
    DestinationConflict,
    SourceChanged,
)
from tracker.s3.verification import MARKER

if TYPE_CHECKING:
    from fixtures.faultproxy import FaultProxy

pytestmark = pytest.mark.s3
MiB = 2**20
SOURCES = {
    "run-1/plain.txt": 100,
    "run-1/with space/and  two.txt": 1,
    "run-1/unicode/é漢字 😀.bam": 3000,
    "run-1/percent/%41%2F%.txt": 13,
    "run-1/dots/../escape.txt": 14,
    "run-1/double//slash": 15,
    "run-1/folder/": 0,
    "run-1/": 0,
    "run-1/xml&<chars>'\"": 16,
}
NEIGHBOURS = {"run-10/sample.bam": 20, "run-1.txt": 21}


def keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def body(client: Any, bucket: str, key: str) -> bytes:
    return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.fixture
def other_bucket(s3_server: S3Server) -> str:
    name = f"dest-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


def test_every_object_lands_with_identical_content(s3_server: S3Server, s3_bucket: str, other_bucket: str) -> None:
    client = s3_server.client()
    put_objects(client, s3_bucket, {**SOURCES, **NEIGHBOURS})
    client.put_object(
        Bucket=s3_bucket,
        Key="run-1/typed.json",
        Body=b"{}",
        ContentType="application/json",
        Metadata={"sample": "NA12878"},
        Tagging="project=p1",
    )
    progress: list[CopyResult] = []

    result = copy_prefix(
        client, S3Url(s3_bucket, "run-1/"), S3Url(other_bucket, "archive/run-1/"), on_progress=progress.append
    )

    copied = [f"archive/{key}" for key in sorted([*SOURCES, "run-1/typed.json"])]
    assert keys(client, other_bucket) == copied
    for key, size in SOURCES.items():
        assert body(client, other_bucket, f"archive/{key}") == object_body(key, size)
    typed = client.head_object(Bucket=other_bucket, Key="archive/run-1/typed.json")
    assert (typed["ContentType"], typed["Metadata"]["sample"]) == ("application/json", "NA12878")
    tags = client.get_object_tagging(Bucket=other_bucket, Key="archive/run-1/typed.json")["TagSet"]
    assert tags == [{"Key": "project", "Value": "p1"}]
    assert (result.objects_copied, result.bytes_copied) == (len(SOURCES) + 1, sum(SOURCES.values()) + 2)
    assert (result.objects_skipped, result.objects_deleted) == (0, 0)
    assert progress[-1] == result
    assert keys(client, s3_bucket, "run-1/") == sorted([*SOURCES, "run-1/typed.json"])  # a copy keeps the sources


def test_large_objects_are_copied_in_parts_and_verified_by_marker(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy
) -> None:
    sizes = {"run-1/big.bam": 12 * MiB + 5, "run-1/small.txt": 10}
    put_objects(s3_server.client(), s3_bucket, sizes)
    s3_server.client().put_object_tagging(
        Bucket=s3_bucket, Key="run-1/big.bam", Tagging={"TagSet": [{"Key": "kind", "Value": "bam"}]}
    )
    client = fault_proxy.client()

    result = copy_prefix(
        client, S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/"), multipart_threshold=6 * MiB, part_size=5 * MiB
    )

    assert fault_proxy.count("UploadPartCopy") == 3
    assert fault_proxy.count("CopyObject") == 1
    assert body(client, s3_bucket, "moved/big.bam") == object_body("run-1/big.bam", sizes["run-1/big.bam"])
    source_etag = client.head_object(Bucket=s3_bucket, Key="run-1/big.bam")["ETag"].strip('"')
    copy = client.head_object(Bucket=s3_bucket, Key="moved/big.bam")
    assert copy["ETag"].endswith('-3"')
    assert copy["Metadata"][MARKER] == source_etag
    assert client.get_object_tagging(Bucket=s3_bucket, Key="moved/big.bam")["TagSet"] == [
        {"Key": "kind", "Value": "bam"}
    ]
    assert (result.objects_copied, result.bytes_copied) == (2, sum(sizes.values()))


class Tampering:
    """A client whose CopyObject of plain.txt is followed by someone overwriting the new copy.

    `subtle`: with content of the same size and the marker copied along, so only the
    ETag of the single-part copy can tell.
    """

    def __init__(self, client: Any, *, subtle: bool) -> None:
        self._client, self._subtle = client, subtle

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def copy_object(self, **params: Any) -> Any:
        response = self._client.copy_object(**params)
        if params["Key"].endswith("plain.txt"):
            body, metadata = (b"x" * 100, params["Metadata"]) if self._subtle else (b"not what was copied", {})
            self._client.put_object(Bucket=params["Bucket"], Key=params["Key"], Body=body, Metadata=metadata)
        return response


@pytest.mark.parametrize(
    ("subtle", "reason"),
    [
        (False, r"size 19 \(expected 100\), marker None"),
        (True, r"ETag \w+ \(expected \w+\)"),
    ],
    ids=["overwritten", "same-size-and-marker"],
)
def test_verification_catches_a_tampered_destination_and_a_move_then_deletes_nothing(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy, subtle: bool, reason: str
) -> None:
    put_objects(s3_server.client(), s3_bucket, SOURCES)
    client = fault_proxy.client()

    with pytest.raises(CopyNotVerified, match=rf"did not verify: 'run-1/plain.txt' \({reason}"):
        move_prefix(Tampering(client, subtle=subtle), S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/"))

    assert fault_proxy.count("DeleteObjects") == 0
    assert keys(client, s3_bucket, "run-1/") == sorted(SOURCES)


def test_a_restarted_copy_skips_what_is_already_verified(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy
) -> None:
    sizes = {f"run-1/part-{i:03d}": i for i in range(60)}
    put_objects(s3_server.client(), s3_bucket, sizes)
    client = fault_proxy.client()
    source, destination = S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/")

    def killed(progress: CopyResult) -> None:
        if progress.objects_copied >= 25:
            raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError, match="the worker died"):
        copy_prefix(client, source, destination, in_flight=4, page_size=10, on_progress=killed)
    first = fault_proxy.count("CopyObject")
    already = len(keys(client, s3_bucket, "moved/"))

    result = copy_prefix(client, source, destination, in_flight=4, page_size=10)

    assert 25 <= first == already < 60
    assert fault_proxy.count("CopyObject") - first == 60 - already  # nothing copied twice
    assert (result.objects_copied, result.objects_skipped, result.bytes_copied) == (60, already, sum(sizes.values()))
    assert copy_prefix(client, source, destination).objects_skipped == 60
    assert fault_proxy.count("CopyObject") == 60


def test_a_stale_copy_of_an_older_source_is_replaced(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    client.put_object(Bucket=s3_bucket, Key="run-1/x", Body=b"first")
    source, destination = S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/")
    copy_prefix(client, source, destination)
    client.put_object(Bucket=s3_bucket, Key="run-1/x", Body=b"second version")

    result = copy_prefix(client, source, destination)

    assert (result.objects_copied, result.objects_skipped) == (1, 0)
    assert body(client, s3_bucket, "moved/x") == b"second version"


def test_an_object_already_at_the_destination_is_never_overwritten(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy
) -> None:
    put_objects(s3_server.client(), s3_bucket, SOURCES)
    client = fault_proxy.client()
    client.put_object(Bucket=s3_bucket, Key="moved/plain.txt", Body=b"somebody else's data")

    with pytest.raises(DestinationConflict, match=r"'run-1/plain.txt'.*remove them or choose another destination"):
        move_prefix(client, S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/"), in_flight=1)

    assert body(client, s3_bucket, "moved/plain.txt") == b"somebody else's data"
    assert fault_proxy.count("DeleteObjects") == 0
    assert keys(client, s3_bucket, "run-1/") == sorted(SOURCES)


def test_an_identical_object_already_at_the_destination_counts_as_copied(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    put_objects(client, s3_bucket, {"run-1/a": 50, "moved/a": 0})
    client.put_object(Bucket=s3_bucket, Key="moved/a", Body=object_body("run-1/a", 50))  # copied by hand

    result = copy_prefix(client, S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/"))

    assert (result.objects_copied, result.objects_skipped) == (1, 1)


@pytest.mark.parametrize(
    ("source", "destination"),
    [
        ("run-1/", "run-1/moved/"),
        ("run-1/out/", "run-1/"),
        ("run-1/", "run-1/"),
        ("run-1/", ""),
    ],
)
def test_overlapping_prefixes_are_refused(
    s3_bucket: str, fault_proxy: FaultProxy, source: str, destination: str
) -> None:
    with pytest.raises(OverlappingPrefixes, match="the prefixes overlap"):
        move_prefix(fault_proxy.client(), S3Url(s3_bucket, source), S3Url(s3_bucket, destination))
    assert fault_proxy.requests == []


def test_a_bucket_root_source_is_refused(s3_bucket: str, other_bucket: str, fault_proxy: FaultProxy) -> None:
    with pytest.raises(BucketRoot, match="refusing to move the whole bucket"):
        move_prefix(fault_proxy.client(), S3Url(s3_bucket, ""), S3Url(other_bucket, "x/"))
    assert fault_proxy.requests == []


def test_move_deletes_the_sources_only_after_every_copy_is_verified(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy
) -> None:
    put_objects(s3_server.client(), s3_bucket, {**SOURCES, **NEIGHBOURS})
    client = fault_proxy.client()
    progress: list[CopyResult] = []

    result = move_prefix(
        client, S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "run-10/moved/"), on_progress=progress.append
    )

    operations = [r.operation for r in fault_proxy.requests]
    last_copy = max(i for i, op in enumerate(operations) if op == "CopyObject")
    assert operations.index("DeleteObjects") > last_copy
    assert keys(client, s3_bucket, "run-1/") == []
    assert keys(client, s3_bucket, "run-10/moved/") == sorted(f"run-10/moved/{k[len('run-1/') :]}" for k in SOURCES)
    for key, size in SOURCES.items():
        assert body(client, s3_bucket, f"run-10/moved/{key[len('run-1/') :]}") == object_body(key, size)
    assert body(client, s3_bucket, "run-10/sample.bam") == object_body("run-10/sample.bam", 20)
    total = (len(SOURCES), sum(SOURCES.values()))
    assert (result.objects_copied, result.bytes_copied) == total == (result.objects_deleted, result.bytes_deleted)
    assert progress[-1] == result


def test_a_failed_copy_means_no_source_is_deleted(s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy) -> None:
    put_objects(s3_server.client(), s3_bucket, SOURCES)
    fault_proxy.add_rule("access_denied", operation="CopyObject", path="double//slash", times=None)
    client = fault_proxy.client()

    with pytest.raises(AccessDenied, match=r"S3 denied copying s3://.*/run-1/double//slash to .*moved/double//slash"):
        move_prefix(client, S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/"), in_flight=2)

    assert fault_proxy.count("DeleteObjects") == 0
    assert keys(client, s3_bucket, "run-1/") == sorted(SOURCES)


def test_a_source_changed_after_its_copy_is_not_deleted(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    put_objects(client, s3_bucket, SOURCES)
    changed, added = "run-1/plain.txt", "run-1/late-arrival"
    done: list[bool] = []

    def meddle(progress: CopyResult) -> None:  # once every copy is verified, before the deletes
        if progress.objects_copied == len(SOURCES) and not done:
            done.append(True)
            client.put_object(Bucket=s3_bucket, Key=changed, Body=b"rewritten by the still-running pipeline")
            client.put_object(Bucket=s3_bucket, Key=added, Body=b"new")

    with pytest.raises(SourceChanged) as failure:
        move_prefix(client, S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/"), on_progress=meddle)

    assert f"'{changed}' (Changed)" in str(failure.value)
    assert f"'{added}' (NotCopied)" in str(failure.value)
    assert keys(client, s3_bucket, "run-1/") == sorted([changed, added])
    assert body(client, s3_bucket, changed) == b"rewritten by the still-running pipeline"
    result = failure.value.result
    assert (result.objects_copied, result.objects_deleted) == (len(SOURCES), len(SOURCES) - 1)
    assert result.bytes_deleted == sum(SOURCES.values()) - SOURCES[changed]


def test_dry_run_copies_nothing_and_counts(s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy) -> None:
    put_objects(s3_server.client(), s3_bucket, SOURCES)
    client = fault_proxy.client()

    result = move_prefix(client, S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/"), dry_run=True)

    writes = {"CopyObject", "UploadPartCopy", "CreateMultipartUpload", "DeleteObjects", "PutObject"}
    assert not [r for r in fault_proxy.requests if r.operation in writes]
    assert (result.objects_found, result.bytes_found) == (len(SOURCES), sum(SOURCES.values()))
    assert (result.objects_copied, result.objects_deleted, result.dry_run) == (0, 0, True)
    assert keys(client, s3_bucket, "moved/") == []


def test_a_copy_survives_slow_down(s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy) -> None:
    put_objects(s3_server.client(), s3_bucket, SOURCES)
    fault_proxy.add_rule("slow_down", operation="CopyObject", times=3)
    client = fault_proxy.client(botocore_retries=0)

    result = move_prefix(client, S3Url(s3_bucket, "run-1/"), S3Url(s3_bucket, "moved/"), in_flight=1, backoff_base=0.01)

    assert fault_proxy.count("CopyObject", status=503) == 3
    assert result.objects_copied == result.objects_deleted == len(SOURCES)
