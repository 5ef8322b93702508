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

import logging
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from botocore.exceptions import ClientError

from tracker.domain.s3url import InvalidS3Url, S3Url
from tracker.s3.client import S3Client
from tracker.s3.listing import iter_pages, iter_version_pages

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
BATCH_LIMIT = 1000  # keys per DeleteObjects request, S3's maximum
MAX_PASSES = 5
SHOWN_KEYS = 10
_TRANSIENT = {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling",
              "ThrottlingException", "RequestLimitExceeded", "500", "502", "503", "504"}
_DENIED = {"AccessDenied", "AllAccessDisabled", "403"}


class RefusedPrefix(InvalidS3Url):
    """A prefix this module will not work on (a bucket root, a key that is not a prefix)."""


class S3OperationError(RuntimeError):
    """An S3 operation stopped before the end; `result` holds what it did until then."""

    reason = "S3Error"

    def __init__(self, message: str, *, result: object | None = None) -> None:
        super().__init__(message)
        self.result = result


class AccessDenied(S3OperationError):
    reason = "AccessDenied"


class DeleteFailed(S3OperationError):
    """Keys that S3 still refused to delete after every retry; they still exist."""

    reason = "DeleteFailed"

    def __init__(self, message: str, *, failures: list[KeyFailure], result: object | None = None) -> None:
        super().__init__(message, result=result)
        self.failures = failures


class PrefixNotEmpty(S3OperationError):
    reason = "PrefixNotEmpty"


@dataclass(frozen=True)
class KeyFailure:
    key: str
    code: str
    message: str = ""
    version_id: str | None = None


@dataclass(frozen=True)
class Target:
    """One DeleteObjects entry. `is_object`: a current object, counted in objects/bytes."""

    key: str
    size: int = 0
    version_id: str | None = None
    is_object: bool = True
    etag: str | None = None  # sent as a condition: S3 deletes only while the ETag matches


@dataclass(frozen=True)
class DeleteResult:
    objects_deleted: int = 0
    bytes_deleted: int = 0
    versions_deleted: int = 0
    dry_run: bool = False
    # What the listings found under the prefix; in a dry run, what would be deleted.
    objects_found: int = 0
    bytes_found: int = 0
    versions_found: int = 0


class Journal(Protocol):
    """Durable bookkeeping of batches, so counters stay exact when a worker is killed
    between S3 deleting a batch and the worker recording it. Both calls run in the
    calling thread: `sending` before the batch is submitted, `settled` after."""

    def sending(self, batch: list[Target]) -> None: ...

    def settled(self, batch: list[Target], outcome: BatchOutcome) -> None: ...


@dataclass
class BatchOutcome:
    deleted: list[Target] = field(default_factory=list)
    failed: list[KeyFailure] = field(default_factory=list)  # retries exhausted
    denied: list[KeyFailure] = field(default_factory=list)
    changed: list[KeyFailure] = field(default_factory=list)  # PreconditionFailed: not deleted
    error: Exception | None = None  # the request itself failed for good (after retries)


def backoff_delay(attempt: int, *, base: float = 0.2, cap: float = 20.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: between half and all of min(cap, base * 2**attempt)."""
    ceiling = min(cap, base * 2 ** min(attempt, 32))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_transient(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(error) in _TRANSIENT or status in (500, 502, 503, 504)


def is_denied(error: ClientError) -> bool:
    return error_code(error) in _DENIED


def denied(error: ClientError, what: str) -> AccessDenied:
    detail = error.response.get("Error", {}).get("Message") or "Access Denied"
    return AccessDenied(f"S3 denied {what}: {error_code(error)}: {detail}; "
                        "check the worker's IAM policy and the bucket policy")


def call_s3(fn: Callable[..., R], *, what: str, retries: int = 5, backoff_base: float = 0.2, **kwargs: object) -> R:
    """`fn(**kwargs)`, retrying throttling and 5xx beyond botocore's retries; AccessDenied mapped."""
    for attempt in range(retries + 1):
        try:
            return fn(**kwargs)
        except ClientError as error:
            if is_denied(error):
                raise denied(error, what) from error
            if not is_transient(error) or attempt == retries:
                raise
            log.warning("%s: %s, retrying", what, error_code(error))
            time.sleep(backoff_delay(attempt, base=backoff_base))
    raise AssertionError("unreachable")


def denied_as_error(items: Iterable[T], what: str) -> Iterator[T]:
    """`items` (a listing), with AccessDenied raised as `AccessDenied` naming `what`."""
    try:
        yield from items
    except ClientError as error:
        if is_denied(error):
            raise denied(error, what) from error
        raise


def run_bounded(items: Iterable[T], work: Callable[[T], R], *, in_flight: int,
                on_result: Callable[[R], None]) -> None:
    """Run `work` on each item, `in_flight` at a time, pulling items lazily.

    An item is pulled, then waits for a free thread, so at most `in_flight + 1` items
    are held. `on_result` runs in the calling thread for every finished item. The first
    exception stops the pulling; work already started is finished and passed to
    `on_result` before that exception is raised.
    """
    if in_flight < 1:
        raise ValueError("in_flight must be at least 1")
    iterator = iter(items)
    errors: list[Exception] = []
    pending: set[Future[R]] = set()

    def harvest(done: Iterable[Future[R]]) -> None:
        for future in done:
            try:
                on_result(future.result())
            except Exception as error:  # noqa: BLE001 - kept and raised once everything stopped
                errors.append(error)

    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="s3-batch") as pool:
        try:
            for item in iterator:
                while len(pending) >= in_flight:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    harvest(done)
                if errors:
                    break
                pending.add(pool.submit(work, item))
                done = {future for future in pending if future.done()}
                pending -= done
                harvest(done)
                if errors:
                    break
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            done, pending = wait(pending)
            harvest(done)
            unreported = errors if sys.exc_info()[1] is not None else errors[1:]
            for error in unreported:
                log.error("also failed: %s", error)
    if errors:
        raise errors[0]


def hold_back_last(pages: Iterable[list[T]]) -> Iterator[list[T]]:
    """The same items in the same order, but each page's last item rides with the next page."""
    carry: list[T] = []
    for page in pages:
        if not page:
            continue
        batch, carry = carry + page[:-1], page[-1:]
        if batch:
            yield batch
    if carry:
        yield carry


def delete_batch(client: S3Client, bucket: str, targets: list[Target], *, max_key_retries: int,
                 backoff_base: float) -> BatchOutcome:
    """One DeleteObjects batch, per-key errors and throttling retried; never raises for S3 errors."""
    outcome = BatchOutcome()
    pending = {(t.key, t.version_id): t for t in targets}
    key_attempts = request_attempts = 0
    while pending:
        objects = [{k: v for k, v in (("Key", t.key), ("VersionId", t.version_id), ("ETag", t.etag)) if v is not None}
                   for t in pending.values()]
        try:
            response = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": False})
        except Exception as error:  # noqa: BLE001 - returned, so keys deleted by earlier attempts still count
            if isinstance(error, ClientError) and is_transient(error) and request_attempts < max_key_retries:
                time.sleep(backoff_delay(request_attempts, base=backoff_base))
                request_attempts += 1
                continue
            outcome.error = error
            return outcome
        for entry in response.get("Deleted", ()):
            target = _pop(pending, entry)
            if target is not None:
                outcome.deleted.append(target)
        retry: dict[tuple[str, str | None], tuple[Target, KeyFailure]] = {}
        for entry in response.get("Errors", ()):
            target = _pop(pending, entry)
            if target is None:
                continue
            failure = KeyFailure(target.key, str(entry.get("Code", "")), str(entry.get("Message", "")), target.version_id)
            if failure.code in _DENIED:
                outcome.denied.append(failure)
            elif failure.code == "PreconditionFailed":
                outcome.changed.append(failure)
            else:
                retry[(target.key, target.version_id)] = (target, failure)
        for ident, target in pending.items():
            retry[ident] = (target, KeyFailure(target.key, "NotReported", "neither Deleted nor Error", target.version_id))
        if retry and key_attempts >= max_key_retries:
            outcome.failed.extend(failure for _, failure in retry.values())
            break
        if retry:
            time.sleep(backoff_delay(key_attempts, base=backoff_base))
            key_attempts += 1
        pending = {ident: target for ident, (target, _) in retry.items()}
    return outcome


def _pop(pending: dict[tuple[str, str | None], Target], entry: dict[str, str]) -> Target | None:
    key = entry.get("Key", "")
    return pending.pop((key, entry.get("VersionId")), None) or pending.pop((key, None), None)


@dataclass
class DeleteTally:
    """Counters and failures of one delete, kept in the calling thread."""

    dry_run: bool = False
    objects: int = 0
    bytes: int = 0
    versions: int = 0
    objects_found: int = 0
    bytes_found: int = 0
    versions_found: int = 0
    failed: list[KeyFailure] = field(default_factory=list)
    denied: list[KeyFailure] = field(default_factory=list)
    changed: list[KeyFailure] = field(default_factory=list)
    error: Exception | None = None

    @property
    def stopped(self) -> bool:
        return bool(self.failed or self.denied or self.error)

    def add(self, outcome: BatchOutcome) -> None:
        for target in outcome.deleted:
            self.objects += target.is_object
            self.bytes += target.size if target.is_object else 0
            self.versions += target.version_id is not None
        self.failed += outcome.failed
        self.denied += outcome.denied
        self.changed += outcome.changed
        self.error = self.error or outcome.error

    def found(self, targets: list[Target]) -> None:
        for target in targets:
            self.objects_found += target.is_object
            self.bytes_found += target.size if target.is_object else 0
            self.versions_found += target.version_id is not None

    def result(self) -> DeleteResult:
        return DeleteResult(self.objects, self.bytes, self.versions, self.dry_run,
                            self.objects_found, self.bytes_found, self.versions_found)

    def raise_if_failed(self, where: str) -> None:
        if self.denied:
            raise AccessDenied(f"S3 denied deleting {len(self.denied)} objects under {where}: "
                               f"{shown(self.denied)}; check the worker's IAM policy, the bucket "
                               "policy and any object lock", result=self.result())
        if self.error is not None:
            if isinstance(self.error, ClientError) and is_denied(self.error):
                raise denied(self.error, f"DeleteObjects under {where}") from self.error
            raise self.error
        if self.failed:
            raise DeleteFailed(f"{len(self.failed)} objects under {where} could not be deleted after "
                               f"retries: {shown(self.failed)}", failures=self.failed, result=self.result())


def shown(failures: list[KeyFailure]) -> str:
    """`key (Code), ...` for the first few failures, then how many more."""
    text = ", ".join(f"{f.key!r} ({f.code})" for f in failures[:SHOWN_KEYS])
    return text + (f" and {len(failures) - SHOWN_KEYS} more" if len(failures) > SHOWN_KEYS else "")


def delete_targets(client: S3Client, bucket: str, batches: Iterable[list[Target]], *, tally: DeleteTally,
                   batches_in_flight: int, max_key_retries: int, backoff_base: float,
                   on_batch: Callable[[DeleteTally], None] | None = None, journal: Journal | None = None) -> None:
    """Delete batches (each at most 1,000 targets) concurrently into `tally`; stops pulling at a failure."""

    def gated() -> Iterator[list[Target]]:
        for batch in batches:
            if tally.stopped:
                return
            if journal is not None:
                journal.sending(batch)
            yield batch

    def work(batch: list[Target]) -> tuple[list[Target], BatchOutcome]:
        return batch, delete_batch(client, bucket, batch, max_key_retries=max_key_retries, backoff_base=backoff_base)

    def on_result(result: tuple[list[Target], BatchOutcome]) -> None:
        batch, outcome = result
        if journal is not None:
            journal.settled(batch, outcome)
        tally.add(outcome)
        if on_batch is not None:
            on_batch(tally)

    run_bounded(gated(), work, in_flight=batches_in_flight, on_result=on_result)


def refuse_unsafe(prefix: S3Url, what: str) -> None:
    if prefix.is_bucket_root:
        raise RefusedPrefix(f"refusing to {what} the whole bucket {prefix}: name a prefix under it")
    if not prefix.is_prefix:
        raise RefusedPrefix(f"refusing to {what} {prefix}: a prefix must end in '/'")


def delete_prefix(client: S3Client, prefix: S3Url, *, batches_in_flight: int = 4,
                  on_progress: Callable[[int, int], None] | None = None, max_key_retries: int = 5,
                  dry_run: bool = False, versions: bool | None = None, page_size: int = BATCH_LIMIT,
                  backoff_base: float = 0.2, journal: Journal | None = None) -> DeleteResult:
    """Delete everything under `prefix` (see the module docstring). Returns exact counters.

    `on_progress(objects, bytes)` gets the running totals after each batch (in a dry run,
    the totals found so far), in the calling thread.
    """
    refuse_unsafe(prefix, "delete")
    if not 1 <= page_size <= BATCH_LIMIT:
        raise ValueError(f"page_size must be 1..{BATCH_LIMIT}")
    if versions is None:
        status = call_s3(client.get_bucket_versioning, Bucket=prefix.bucket, retries=max_key_retries,
                         what=f"reading the versioning state of bucket {prefix.bucket} (s3:GetBucketVersioning)")
        versions = status.get("Status") in ("Enabled", "Suspended")
    tally = DeleteTally(dry_run=dry_run)

    def progress(current: DeleteTally) -> None:
        if on_progress is not None:
            on_progress(*((current.objects_found, current.bytes_found) if dry_run else (current.objects, current.bytes)))

    for _ in range(MAX_PASSES):
        listed_before = tally.objects_found + tally.versions_found
        batches = _counted(_listing(client, prefix, versions=versions, page_size=page_size), tally)
        try:
            if dry_run:
                for _batch in batches:
                    progress(tally)
                return tally.result()
            delete_targets(client, prefix.bucket, batches, tally=tally, batches_in_flight=batches_in_flight,
                           max_key_retries=max_key_retries, backoff_base=backoff_base, on_batch=progress,
                           journal=journal)
            tally.raise_if_failed(str(prefix))
        except S3OperationError as error:
            error.result = tally.result()
            raise
        if tally.objects_found + tally.versions_found == listed_before:
            return tally.result()
    raise PrefixNotEmpty(f"objects kept appearing under {prefix} through {MAX_PASSES} passes: "
                         "is something still writing there?", result=tally.result())


def _listing(client: S3Client, prefix: S3Url, *, versions: bool, page_size: int) -> Iterator[list[Target]]:
    what = f"listing {prefix} (s3:ListBucket{'Versions' if versions else ''})"
    if versions:
        pages = denied_as_error(iter_version_pages(client, prefix, page_size=page_size), what)
        for page in hold_back_last(pages):
            yield [Target(v.key, v.size, v.version_id, v.is_latest and not v.delete_marker) for v in page]
        return
    base = len(str(S3Url(prefix.bucket, "")))
    for objects in denied_as_error(iter_pages(client, prefix, page_size=page_size), what):
        if objects:
            yield [Target(o.url[base:], o.size) for o in objects]


def _counted(batches: Iterator[list[Target]], tally: DeleteTally) -> Iterator[list[Target]]:
    for batch in batches:
        tally.found(batch)
        yield batch
