"""delete_prefix against the local S3 server, with faults injected by a proxy in front of it."""

from __future__ import annotations

import base64
import hashlib
import threading
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from botocore.httpchecksum import Crc32Checksum

from localcluster.s3server import S3Server, object_body, put_objects, seed_objects
from tracker.domain.fence import Fence, FenceError, FenceViolation
from tracker.domain.s3url import S3Url
from tracker.s3.batches import DeleteTally, Target, delete_targets
from tracker.s3.delete import delete_prefix
from tracker.s3.errors import AccessDenied, DeleteFailed

if TYPE_CHECKING:
    from fixtures.faultproxy import FaultProxy

pytestmark = pytest.mark.s3
RUN_1 = "run-1/"
RICH_KEYS = {
    "run-1/plain.txt": 10,
    "run-1/with space/and  two.txt": 11,
    "run-1/unicode/é漢字 😀.bam": 12,
    "run-1/percent/%41%2F%.txt": 13,
    "run-1/dots/../escape.txt": 14,
    "run-1/double//slash": 15,
    "run-1/folder/": 0,
    "run-1/": 0,
    "run-1/plus+tilde~&amp;<xml>'\"": 16,
}
NEIGHBOURS = {"run-10/sample.bam": 20, "run-1.txt": 21, "run-1": 22, "Run-1/x": 23, "run-/x": 24, "run-10/": 0}


def keys(client: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def versions(client: Any, bucket: str, prefix: str = "") -> list[tuple[str, str]]:
    pages = client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(
        (v["Key"], v["VersionId"]) for page in pages for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
    )


def test_delete_empties_exactly_the_prefix(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    put_objects(client, s3_bucket, {**RICH_KEYS, **NEIGHBOURS})
    progress: list[tuple[int, int]] = []

    result = delete_prefix(client, S3Url(s3_bucket, RUN_1), on_progress=lambda o, b: progress.append((o, b)))

    assert sorted(keys(client, s3_bucket)) == sorted(NEIGHBOURS)
    for key, size in NEIGHBOURS.items():
        assert client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == object_body(key, size)
    assert (result.objects_deleted, result.bytes_deleted) == (len(RICH_KEYS), sum(RICH_KEYS.values()))
    assert (result.objects_found, result.versions_deleted, result.dry_run) == (len(RICH_KEYS), 0, False)
    assert progress[-1] == (len(RICH_KEYS), sum(RICH_KEYS.values()))


def test_thousands_of_objects_with_several_batches_in_flight(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy
) -> None:
    seed_objects(s3_server, s3_bucket, prefix=RUN_1, count=5200, size=7)
    seed_objects(s3_server, s3_bucket, prefix="run-10/", count=30, size=7)
    fault_proxy.add_rule("delay", operation="DeleteObjects", seconds=0.2, times=None)
    client = fault_proxy.client()
    running, most = [0], [0]
    lock = threading.Lock()

    def started(**_: Any) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])

    def ended(**_: Any) -> None:
        with lock:
            running[0] -= 1

    client.meta.events.register("before-call.s3.DeleteObjects", started)
    client.meta.events.register("after-call.s3.DeleteObjects", ended)

    result = delete_prefix(client, S3Url(s3_bucket, RUN_1), batches_in_flight=4)

    assert (result.objects_deleted, result.bytes_deleted) == (5200, 5200 * 7)
    assert keys(client, s3_bucket, RUN_1) == []
    assert len(keys(client, s3_bucket, "run-10/")) == 30
    assert fault_proxy.count("DeleteObjects") == 6  # 1,000 keys a request
    assert 2 <= most[0] <= 4


def test_the_listing_never_runs_more_than_one_page_ahead_of_the_batches(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy
) -> None:
    seed_objects(s3_server, s3_bucket, prefix=RUN_1, count=600)
    fault_proxy.add_rule("delay", operation="DeleteObjects", seconds=0.2, times=None)
    client = fault_proxy.client()
    listed, completed, ahead = [0], [0], [0]
    lock = threading.Lock()

    def page_listed(**_: Any) -> None:
        with lock:
            listed[0] += 1
            ahead[0] = max(ahead[0], listed[0] - completed[0])

    def batch_done(**_: Any) -> None:
        with lock:
            completed[0] += 1

    client.meta.events.register("after-call.s3.ListObjectsV2", page_listed)
    client.meta.events.register("after-call.s3.DeleteObjects", batch_done)

    result = delete_prefix(client, S3Url(s3_bucket, RUN_1), batches_in_flight=3, page_size=20)

    assert result.objects_deleted == 600
    assert completed[0] == 30
    assert ahead[0] == 3 + 1  # the pipeline fills, and never holds more than in flight + 1 pages


def test_dry_run_counts_and_changes_nothing(s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy) -> None:
    client = fault_proxy.client()
    put_objects(client, s3_bucket, {**RICH_KEYS, **NEIGHBOURS})
    before = sorted(keys(client, s3_bucket))
    progress: list[tuple[int, int]] = []

    result = delete_prefix(
        client, S3Url(s3_bucket, RUN_1), dry_run=True, on_progress=lambda o, b: progress.append((o, b))
    )

    assert sorted(keys(client, s3_bucket)) == before
    assert fault_proxy.count("DeleteObjects") == 0
    assert (result.objects_found, result.bytes_found) == (len(RICH_KEYS), sum(RICH_KEYS.values()))
    assert (result.objects_deleted, result.bytes_deleted, result.dry_run) == (0, 0, True)
    assert progress[-1] == (len(RICH_KEYS), sum(RICH_KEYS.values()))


@pytest.mark.parametrize(("botocore_retries", "slow_downs"), [(2, 2), (0, 4)], ids=["botocore-retries", "ours"])
def test_slow_down_is_retried_and_the_result_is_exact(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy, botocore_retries: int, slow_downs: int
) -> None:
    seed_objects(s3_server, s3_bucket, prefix=RUN_1, count=2500, size=3)
    fault_proxy.add_rule("slow_down", operation="DeleteObjects", times=slow_downs)
    client = fault_proxy.client(botocore_retries=botocore_retries)

    result = delete_prefix(client, S3Url(s3_bucket, RUN_1), backoff_base=0.01)

    assert (result.objects_deleted, result.bytes_deleted) == (2500, 7500)
    assert keys(client, s3_bucket, RUN_1) == []
    assert fault_proxy.count("DeleteObjects", status=503) == slow_downs
    assert fault_proxy.count("DeleteObjects", status=200) == 3


def test_per_key_errors_that_clear_are_retried(s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy) -> None:
    seed_objects(s3_server, s3_bucket, prefix=RUN_1, count=1500, size=4)
    flaky = {f"{RUN_1}obj-000007", f"{RUN_1}obj-001234", f"{RUN_1}obj-001499"}
    fault_proxy.add_rule("key_errors", keys=flaky, times=3, code="SlowDown")
    client = fault_proxy.client()

    result = delete_prefix(client, S3Url(s3_bucket, RUN_1), max_key_retries=5, backoff_base=0.01)

    assert (result.objects_deleted, result.bytes_deleted) == (1500, 6000)
    assert keys(client, s3_bucket, RUN_1) == []
    assert fault_proxy.count("DeleteObjects") == 2 + 2 * 3  # two batches, each retried three times


def test_per_key_errors_that_persist_name_the_keys_which_still_exist(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy
) -> None:
    seed_objects(s3_server, s3_bucket, prefix=RUN_1, count=800, size=5)
    stuck = [f"{RUN_1}obj-000003", f"{RUN_1}obj-000700"]
    fault_proxy.add_rule("key_errors", keys=stuck, times=None)
    client = fault_proxy.client()
    progress: list[tuple[int, int]] = []

    with pytest.raises(DeleteFailed) as failure:
        delete_prefix(
            client,
            S3Url(s3_bucket, RUN_1),
            max_key_retries=2,
            backoff_base=0.01,
            on_progress=lambda o, b: progress.append((o, b)),
        )

    message = str(failure.value)
    assert all(f"'{key}' (InternalError)" in message for key in stuck)
    assert f"s3://{s3_bucket}/{RUN_1}" in message
    assert sorted(f.key for f in failure.value.failures) == stuck
    assert failure.value.result.objects_deleted == 798 == progress[-1][0]
    assert failure.value.result.bytes_deleted == 798 * 5
    assert keys(client, s3_bucket, RUN_1) == stuck


def test_access_denied_fails_clearly_and_deletes_nothing(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy
) -> None:
    seed_objects(s3_server, s3_bucket, prefix=RUN_1, count=1500)
    fault_proxy.add_rule("access_denied", operation="DeleteObjects", times=None)
    client = fault_proxy.client()

    with pytest.raises(AccessDenied, match=rf"S3 denied DeleteObjects under s3://{s3_bucket}/run-1/: AccessDenied"):
        delete_prefix(client, S3Url(s3_bucket, RUN_1))

    assert len(keys(client, s3_bucket, RUN_1)) == 1500
    assert fault_proxy.count("DeleteObjects", status=403) >= 1


def test_access_denied_on_a_key_names_it(s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy) -> None:
    seed_objects(s3_server, s3_bucket, prefix=RUN_1, count=10)
    locked = f"{RUN_1}obj-000004"
    fault_proxy.add_rule("key_errors", keys={locked}, times=None, code="AccessDenied")
    client = fault_proxy.client()

    with pytest.raises(AccessDenied, match=rf"denied deleting 1 objects under s3://{s3_bucket}/run-1/: '{locked}'"):
        delete_prefix(client, S3Url(s3_bucket, RUN_1))

    assert keys(client, s3_bucket, RUN_1) == [locked]
    assert fault_proxy.count("DeleteObjects") == 1  # not retried


def test_access_denied_on_the_listing(s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy) -> None:
    fault_proxy.add_rule("access_denied", operation="ListObjectsV2", times=None)
    with pytest.raises(AccessDenied, match=rf"S3 denied listing s3://{s3_bucket}/run-1/ \(s3:ListBucket\)"):
        delete_prefix(fault_proxy.client(), S3Url(s3_bucket, RUN_1), versions=False)


def test_versioned_bucket_ends_with_no_versions_under_the_prefix(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    client.put_object(Bucket=s3_bucket, Key="run-1/before-versioning", Body=b"null version")
    client.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    for round_ in range(3):
        put_objects(client, s3_bucket, {f"run-1/f{i:02d}": 10 + round_ for i in range(12)})
        put_objects(client, s3_bucket, {"run-10/keep": 5, "run-1.txt": 6})
    client.delete_object(Bucket=s3_bucket, Key="run-1/f00")  # a delete marker on top
    others = [v for v in versions(client, s3_bucket) if not v[0].startswith(RUN_1)]
    under = versions(client, s3_bucket, RUN_1)

    result = delete_prefix(client, S3Url(s3_bucket, RUN_1), page_size=5)  # pages end inside a key's versions

    assert versions(client, s3_bucket, RUN_1) == []
    assert versions(client, s3_bucket) == others
    assert result.versions_deleted == len(under) == 1 + 12 * 3 + 1
    assert (result.objects_deleted, result.bytes_deleted) == (12, 11 * 12 + len(b"null version"))


def test_versions_false_leaves_noncurrent_versions(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    client.put_bucket_versioning(Bucket=s3_bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"one", b"two"):
        client.put_object(Bucket=s3_bucket, Key="run-1/x", Body=body)

    result = delete_prefix(client, S3Url(s3_bucket, RUN_1), versions=False)

    assert (result.objects_deleted, result.versions_deleted) == (1, 0)
    assert keys(client, s3_bucket, RUN_1) == []
    assert len(versions(client, s3_bucket, RUN_1)) == 3  # two versions and the new delete marker


@pytest.mark.parametrize("key", ["", "run-1"], ids=["bucket-root", "not-a-prefix"])
def test_a_bucket_root_or_a_non_prefix_is_refused(s3_server: S3Server, s3_bucket: str, key: str) -> None:
    client = s3_server.client()
    put_objects(client, s3_bucket, NEIGHBOURS)
    with pytest.raises(FenceError, match="refusing to delete"):
        delete_prefix(client, S3Url(s3_bucket, key))
    assert sorted(keys(client, s3_bucket)) == sorted(NEIGHBOURS)


@pytest.mark.parametrize("outside", ["run-10/sample.bam", "Run-1/x", "run-1"])
def test_a_batch_with_a_key_outside_the_fence_is_never_sent(s3_server: S3Server, s3_bucket: str, outside: str) -> None:
    client = s3_server.client()
    put_objects(client, s3_bucket, [*NEIGHBOURS.items(), (f"{RUN_1}a", 1)])
    sent: list[Any] = []
    client.meta.events.register("before-call.s3.DeleteObjects", lambda **kwargs: sent.append(kwargs))
    with pytest.raises(FenceViolation, match=outside):
        delete_targets(
            client,
            Fence(S3Url(s3_bucket, RUN_1)),
            [[Target(f"{RUN_1}a", 1), Target(outside)]],
            tally=DeleteTally(),
            batches_in_flight=1,
            max_key_retries=0,
            backoff_base=0,
        )
    assert sent == []
    assert sorted(keys(client, s3_bucket)) == sorted([*NEIGHBOURS, f"{RUN_1}a"])


def test_a_key_outside_the_prefix_aborts_and_nothing_outside_is_deleted(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    seed_objects(s3_server, s3_bucket, prefix=RUN_1, count=30)
    put_objects(client, s3_bucket, NEIGHBOURS)
    pages = [0]

    def smuggle(parsed: dict[str, Any], **_: Any) -> None:  # a listing that misbehaves on its third page
        pages[0] += 1
        if pages[0] == 3:
            parsed["Contents"].append({"Key": "run-10/sample.bam", "Size": 20})

    client.meta.events.register("after-call.s3.ListObjectsV2", smuggle)

    with pytest.raises(FenceViolation, match=r"run-10/sample\.bam"):
        delete_prefix(client, S3Url(s3_bucket, RUN_1), page_size=10)

    assert sorted(keys(client, s3_bucket)) == sorted([*NEIGHBOURS, *(f"{RUN_1}obj-{i:06d}" for i in range(20, 30))])


def test_a_restart_finishes_what_an_interrupted_delete_left(s3_server: S3Server, s3_bucket: str) -> None:
    client = s3_server.client()
    seed_objects(s3_server, s3_bucket, prefix=RUN_1, count=500, size=2)

    def killed(objects: int, _bytes: int) -> None:
        if objects >= 200:
            raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError, match="the worker died"):
        delete_prefix(client, S3Url(s3_bucket, RUN_1), page_size=100, batches_in_flight=2, on_progress=killed)
    left = len(keys(client, s3_bucket, RUN_1))

    result = delete_prefix(client, S3Url(s3_bucket, RUN_1), page_size=100)

    assert 0 < left < 500
    assert result.objects_deleted == left
    assert keys(client, s3_bucket, RUN_1) == []


def test_the_fault_proxy_is_transparent_and_its_faults_look_like_s3(
    s3_server: S3Server, s3_bucket: str, fault_proxy: FaultProxy
) -> None:
    client = fault_proxy.client(botocore_retries=0)
    key = "run-1/é漢 %41/../x"
    client.put_object(Bucket=s3_bucket, Key=key, Body=b"hello", Metadata={"m": "1"})
    assert client.get_object(Bucket=s3_bucket, Key=key)["Body"].read() == b"hello"
    assert client.head_object(Bucket=s3_bucket, Key=key)["ContentLength"] == 5
    upload = client.create_multipart_upload(Bucket=s3_bucket, Key="run-1/mp")["UploadId"]
    part = client.upload_part(Bucket=s3_bucket, Key="run-1/mp", UploadId=upload, PartNumber=1, Body=b"p" * 10)
    client.complete_multipart_upload(
        Bucket=s3_bucket,
        Key="run-1/mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert keys(client, s3_bucket) == ["run-1/mp", key]
    assert [r.operation for r in fault_proxy.requests] == [
        "PutObject",
        "GetObject",
        "HeadObject",
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "ListObjectsV2",
    ]
    assert fault_proxy.requests[1].key == key
    assert fault_proxy.requests[1].path.startswith(f"/{s3_bucket}/run-1/")

    fault_proxy.add_rule("slow_down", operation="GetObject")
    fault_proxy.add_rule("access_denied", operation="HeadObject")
    with pytest.raises(ClientError) as slow:
        client.get_object(Bucket=s3_bucket, Key=key)
    with pytest.raises(ClientError) as refused:
        client.head_object(Bucket=s3_bucket, Key=key)
    assert (slow.value.response["Error"]["Code"], slow.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "SlowDown",
        503,
    )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    fault_proxy.add_rule("key_errors", keys={key})
    response = client.delete_objects(Bucket=s3_bucket, Delete={"Objects": [{"Key": key}, {"Key": "run-1/mp"}]})
    assert [(e["Key"], e["Code"]) for e in response["Errors"]] == [(key, "InternalError")]
    assert [d["Key"] for d in response["Deleted"]] == ["run-1/mp"]
    assert keys(client, s3_bucket) == [key]  # the failed key was never deleted


def test_a_rewritten_delete_body_carries_fresh_checksums() -> None:
    from fixtures.faultproxy import _checksummed

    body = b"<Delete><Object><Key>k</Key></Object></Delete>"
    crc = Crc32Checksum()
    crc.update(body)
    headers = {"Content-MD5": "stale", "x-amz-checksum-crc32": "stale", "X-Amz-Content-SHA256": "0" * 64}
    fixed = _checksummed(headers, body)
    assert fixed["x-amz-checksum-crc32"] == base64.b64encode(crc.digest()).decode()
    assert fixed["Content-MD5"] == base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    assert fixed["X-Amz-Content-SHA256"] == hashlib.sha256(body).hexdigest()
