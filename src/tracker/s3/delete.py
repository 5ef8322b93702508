"""delete_prefix: remove every object under an output prefix, and nothing else.

How it runs: ListObjectsV2 pages (1,000 keys) are fence-checked key by key and streamed
into DeleteObjects batches (Quiet=False, so S3 answers for every key). Up to
`batches_in_flight` batches run at once on a bounded pool while the next page is
listed, so memory stays at `batches_in_flight + 1` pages whatever the object count.
A restart simply lists what is left; when a pass ends, the prefix is listed again and
the work repeats until a listing comes back empty.

Counting: only keys S3 reports in `Deleted` are counted. Per-key errors are retried
with exponential backoff and jitter, then raise `DeleteFailed` naming the keys; a
503 SlowDown that outlasts botocore's own retries is backed off and the batch resent.
AccessDenied, on the request or on a key, raises `AccessDenied` at once.

Versioned buckets: when the bucket's versioning is Enabled or Suspended (or
`versions=True`), every version and delete marker under the prefix is deleted through
ListObjectVersions, so the data is really gone; `objects_deleted`/`bytes_deleted`
count the current versions (what a listing showed) and `versions_deleted` every
version id removed. `versions=False` forces plain deletes, which on a versioned bucket
only add delete markers and leave the noncurrent versions (and their cost) behind.
S3 resumes a version listing after its marker even when that version is gone; moto
does not, so the marker entry of each page is deleted with the next page's batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tracker.domain.fence import guard
from tracker.domain.s3url import S3Url
from tracker.domain.shards import EVERYTHING, KeyRange
from tracker.s3.batches import BATCH_LIMIT, DeleteResult, DeleteTally, Journal, Target, delete_targets
from tracker.s3.client import S3Client
from tracker.s3.errors import PrefixNotEmpty, S3OperationError, denied_as_error
from tracker.s3.listing import iter_pages, iter_version_pages
from tracker.s3.pipeline import hold_back_last
from tracker.s3.retry import call_s3

MAX_PASSES = 5


def delete_prefix(
    client: S3Client,
    prefix: S3Url,
    *,
    batches_in_flight: int = 4,
    on_progress: Callable[[int, int], None] | None = None,
    max_key_retries: int = 5,
    dry_run: bool = False,
    versions: bool | None = None,
    page_size: int = BATCH_LIMIT,
    backoff_base: float = 0.2,
    journal: Journal | None = None,
    key_range: KeyRange = EVERYTHING,
) -> DeleteResult:
    """Delete everything under `prefix` (see the module docstring), or only the keys in
    `key_range` (relative to it: one shard of a sharded job). Returns exact counters.

    `on_progress(objects, bytes)` gets the running totals after each batch (in a dry run,
    the totals found so far), in the calling thread.
    """
    fence = guard(prefix, "delete")
    if not 1 <= page_size <= BATCH_LIMIT:
        raise ValueError(f"page_size must be 1..{BATCH_LIMIT}")
    if versions is None:
        status = call_s3(
            client.get_bucket_versioning,
            Bucket=prefix.bucket,
            retries=max_key_retries,
            what=f"reading the versioning state of bucket {prefix.bucket} (s3:GetBucketVersioning)",
        )
        versions = status.get("Status") in ("Enabled", "Suspended")
    tally = DeleteTally(dry_run=dry_run)

    def progress(current: DeleteTally) -> None:
        if on_progress is not None:
            counted = (current.objects_found, current.bytes_found) if dry_run else (current.objects, current.bytes)
            on_progress(*counted)

    for _ in range(MAX_PASSES):
        listed_before = tally.objects_found + tally.versions_found
        batches = _counted(_listing(client, prefix, versions=versions, page_size=page_size, key_range=key_range), tally)
        try:
            if dry_run:
                for _batch in batches:
                    progress(tally)
                return tally.result()
            delete_targets(
                client,
                fence,
                batches,
                tally=tally,
                batches_in_flight=batches_in_flight,
                max_key_retries=max_key_retries,
                backoff_base=backoff_base,
                on_batch=progress,
                journal=journal,
            )
            tally.raise_if_failed(str(prefix))
        except S3OperationError as error:
            error.result = tally.result()
            raise
        if tally.objects_found + tally.versions_found == listed_before:
            return tally.result()
    raise PrefixNotEmpty(
        f"objects kept appearing under {prefix} through {MAX_PASSES} passes: is something still writing there?",
        result=tally.result(),
    )


def _listing(
    client: S3Client, prefix: S3Url, *, versions: bool, page_size: int, key_range: KeyRange
) -> Iterator[list[Target]]:
    what = f"listing {prefix} (s3:ListBucket{'Versions' if versions else ''})"
    if versions:
        pages = denied_as_error(iter_version_pages(client, prefix, page_size=page_size, key_range=key_range), what)
        for page in hold_back_last(pages):
            yield [Target(v.key, v.size, v.version_id, v.is_latest and not v.delete_marker) for v in page]
        return
    base = len(str(S3Url(prefix.bucket, "")))
    for objects in denied_as_error(iter_pages(client, prefix, page_size=page_size, key_range=key_range), what):
        if objects:
            yield [Target(o.url[base:], o.size) for o in objects]


def _counted(batches: Iterator[list[Target]], tally: DeleteTally) -> Iterator[list[Target]]:
    for batch in batches:
        tally.found(batch)
        yield batch
