"""DeleteObjects batches: deleting a stream of targets concurrently, counted exactly.

Used by delete_prefix and by move_prefix. Each batch (at most 1,000 targets) is one
DeleteObjects request with Quiet=False, so S3 answers for every key; only keys S3
reports in `Deleted` are counted. Per-key errors are retried with backoff, throttling
of the request too; a `Journal` records each batch before it goes out and when it is
settled. Every key is checked against the prefix fence before its batch goes out.
`DeleteTally` keeps the counters and raises what stopped the delete.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import ClientError

from tracker.domain.fence import Fence
from tracker.s3.client import S3Client
from tracker.s3.errors import DENIED, AccessDenied, DeleteFailed, KeyFailure, denied, is_denied, is_transient
from tracker.s3.pipeline import run_bounded
from tracker.s3.retry import backoff_delay

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import DeletedObjectTypeDef, ErrorTypeDef, ObjectIdentifierTypeDef

BATCH_LIMIT = 1000  # keys per DeleteObjects request, S3's maximum
SHOWN_KEYS = 10


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


def delete_batch(
    client: S3Client, bucket: str, targets: list[Target], *, max_key_retries: int, backoff_base: float
) -> BatchOutcome:
    """One DeleteObjects batch, per-key errors and throttling retried; never raises for S3 errors."""
    outcome = BatchOutcome()
    pending = {(t.key, t.version_id): t for t in targets}
    key_attempts = request_attempts = 0
    while pending:
        objects = [_identifier(t) for t in pending.values()]
        try:
            response = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": False})
        except Exception as error:
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
        for problem in response.get("Errors", ()):
            target = _pop(pending, problem)
            if target is None:
                continue
            code, message = str(problem.get("Code", "")), str(problem.get("Message", ""))
            failure = KeyFailure(target.key, code, message, target.version_id)
            if failure.code in DENIED:
                outcome.denied.append(failure)
            elif failure.code == "PreconditionFailed":
                outcome.changed.append(failure)
            else:
                retry[(target.key, target.version_id)] = (target, failure)
        for ident, target in pending.items():
            unreported = KeyFailure(target.key, "NotReported", "neither Deleted nor Error", target.version_id)
            retry[ident] = (target, unreported)
        if retry and key_attempts >= max_key_retries:
            outcome.failed.extend(failure for _, failure in retry.values())
            break
        if retry:
            time.sleep(backoff_delay(key_attempts, base=backoff_base))
            key_attempts += 1
        pending = {ident: target for ident, (target, _) in retry.items()}
    return outcome


def _identifier(target: Target) -> ObjectIdentifierTypeDef:
    identifier: ObjectIdentifierTypeDef = {"Key": target.key}
    if target.version_id is not None:
        identifier["VersionId"] = target.version_id
    if target.etag is not None:
        identifier["ETag"] = target.etag
    return identifier


def _pop(pending: dict[tuple[str, str | None], Target], entry: DeletedObjectTypeDef | ErrorTypeDef) -> Target | None:
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
        return DeleteResult(
            self.objects,
            self.bytes,
            self.versions,
            self.dry_run,
            self.objects_found,
            self.bytes_found,
            self.versions_found,
        )

    def raise_if_failed(self, where: str) -> None:
        if self.denied:
            raise AccessDenied(
                f"S3 denied deleting {len(self.denied)} objects under {where}: "
                f"{shown(self.denied)}; check the worker's IAM policy, the bucket "
                "policy and any object lock",
                result=self.result(),
            )
        if self.error is not None:
            if isinstance(self.error, ClientError) and is_denied(self.error):
                raise denied(self.error, f"DeleteObjects under {where}") from self.error
            raise self.error
        if self.failed:
            raise DeleteFailed(
                f"{len(self.failed)} objects under {where} could not be deleted after retries: {shown(self.failed)}",
                failures=self.failed,
                result=self.result(),
            )


def shown(failures: list[KeyFailure]) -> str:
    """`key (Code), ...` for the first few failures, then how many more."""
    text = ", ".join(f"{f.key!r} ({f.code})" for f in failures[:SHOWN_KEYS])
    return text + (f" and {len(failures) - SHOWN_KEYS} more" if len(failures) > SHOWN_KEYS else "")


def delete_targets(
    client: S3Client,
    fence: Fence,
    batches: Iterable[list[Target]],
    *,
    tally: DeleteTally,
    batches_in_flight: int,
    max_key_retries: int,
    backoff_base: float,
    on_batch: Callable[[DeleteTally], None] | None = None,
    journal: Journal | None = None,
) -> None:
    """Delete batches (each at most 1,000 targets, every key inside `fence`) concurrently
    into `tally`; stops pulling at a failure. A key outside the fence raises
    `FenceViolation` before its batch is sent."""
    bucket = fence.prefix.bucket

    def gated() -> Iterator[list[Target]]:
        for batch in batches:
            if tally.stopped:
                return
            for target in batch:
                fence.check_key(target.key, "delete")
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
