"""copy_prefix and move_prefix: server-side copies of an output prefix, verified.

Every object under `source` is copied to the same relative key under `destination`
(CopyObject, or UploadPartCopy parts above `multipart_threshold`), then checked with
HeadObject: the size must match, and the copy must carry the metadata marker
`x-amz-meta-tracker-source-etag` holding the source's ETag; a single-part copy of a
single-part, non-KMS source must also have the source's ETag (its MD5). Content
headers and user metadata are carried over, tags too; ACLs and the source's
encryption settings are not (the destination bucket's defaults apply).

Resuming: the destination is listed alongside the source (both come back in UTF-8
key order, so the two listings are merged page by page), and an object whose
destination already holds a verified copy is counted as copied, not copied again.
An object at the destination without the marker and with a different ETag is someone
else's: it is never overwritten, the copy fails with `DestinationConflict`.

move_prefix copies and verifies everything first. Then it lists both prefixes again
and deletes, with DeleteObjects, exactly the sources whose verified copy matches them
as they are now (each delete conditional on the listed ETag). A source that changed
or appeared since it was copied stays, and `SourceChanged` names it. On a versioned
source bucket the sources' noncurrent versions stay (use a lifecycle rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from botocore.exceptions import ClientError

from tracker.domain.fence import guard, guard_copy
from tracker.domain.s3url import S3Url
from tracker.domain.shards import EVERYTHING, KeyRange
from tracker.s3.batches import BATCH_LIMIT, DeleteTally, Journal, Target, delete_targets, shown
from tracker.s3.client import S3Client
from tracker.s3.errors import (
    CopyNotVerified,
    DestinationConflict,
    KeyFailure,
    S3OperationError,
    SourceChanged,
    error_code,
)
from tracker.s3.multipart import MAX_COPY_SIZE, MIN_PART_SIZE, MiB, copy_parts
from tracker.s3.pairs import Options, Outcome, Pair, listed_pairs
from tracker.s3.pipeline import chunks, run_bounded
from tracker.s3.retry import call_s3
from tracker.s3.verification import attributes, existing, head, is_verified_copy, unquoted, verify


@dataclass(frozen=True)
class CopyResult:
    objects_copied: int = 0  # verified at the destination, copied now or by an earlier attempt
    bytes_copied: int = 0
    objects_skipped: int = 0  # of those (in a dry run: of the found), already verified there
    objects_deleted: int = 0  # sources deleted by move_prefix
    bytes_deleted: int = 0
    dry_run: bool = False
    objects_found: int = 0  # source objects handled; in a dry run, what a move would handle
    bytes_found: int = 0


def copy_one(client: S3Client, pair: Pair, options: Options) -> Outcome:
    """Copy one object unless the destination already holds a verified copy; verify."""
    if pair.found is not None:
        verdict = existing(client, pair, pair.found, options.backoff_base)
        if verdict == "skipped":
            return Outcome(verdict, pair, pair.size)
        if verdict == "conflict":
            return Outcome(verdict, pair, pair.size, f"{pair.destination} exists and is not a copy of it")
    if options.dry_run:
        return Outcome("would_copy", pair, pair.size)
    for attempt in range(3):
        source_head = head(client, pair.source, backoff_base=options.backoff_base)
        if source_head is None:
            return Outcome("vanished", pair, 0, "it disappeared during the copy")
        etag, size = unquoted(source_head["ETag"]), int(source_head["ContentLength"])
        multipart = size > options.multipart_threshold
        try:
            if multipart:
                copy_parts(client, pair, source_head, etag, size, options)
            else:
                call_s3(
                    client.copy_object,
                    what=f"copying {pair.source} to {pair.destination} (CopyObject)",
                    Bucket=pair.destination.bucket,
                    Key=pair.destination.key,
                    CopySource={"Bucket": pair.source.bucket, "Key": pair.source.key},
                    CopySourceIfMatch=f'"{etag}"',
                    MetadataDirective="REPLACE",
                    backoff_base=options.backoff_base,
                    **attributes(source_head, etag),
                )
        except ClientError as error:
            if error_code(error) in ("PreconditionFailed", "412") and attempt < 2:
                continue  # the source changed between HeadObject and the copy: copy the new one
            raise
        copied = head(client, pair.destination, backoff_base=options.backoff_base)
        return verify(pair, source_head, copied, etag=etag, size=size, multipart=multipart)
    raise AssertionError("unreachable")


@dataclass
class CopyTally:
    dry_run: bool = False
    result: CopyResult = CopyResult()
    problems: dict[str, list[Outcome]] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        r = self.result
        found = replace(
            r, objects_found=r.objects_found + 1, bytes_found=r.bytes_found + outcome.pair.size, dry_run=self.dry_run
        )
        if outcome.kind in ("copied", "skipped"):
            skipped = outcome.kind == "skipped"
            found = replace(found, objects_skipped=found.objects_skipped + skipped)
            if not self.dry_run:
                found = replace(
                    found, objects_copied=found.objects_copied + 1, bytes_copied=found.bytes_copied + outcome.size
                )
        elif outcome.kind != "would_copy":
            self.problems.setdefault(outcome.kind, []).append(outcome)
        self.result = found

    def raise_if_failed(self, source: S3Url, destination: S3Url) -> None:
        def named(kind: str) -> str:
            return shown([KeyFailure(o.pair.source.key, o.detail) for o in self.problems[kind]])

        if "unverified" in self.problems:
            raise CopyNotVerified(
                f"{len(self.problems['unverified'])} copies from {source} to {destination} "
                f"did not verify: {named('unverified')}",
                result=self.result,
            )
        if "conflict" in self.problems:
            raise DestinationConflict(
                f"{len(self.problems['conflict'])} objects under {destination} are not "
                f"copies of their sources and would be overwritten: {named('conflict')}; "
                "remove them or choose another destination",
                result=self.result,
            )
        if "vanished" in self.problems:
            raise SourceChanged(
                f"objects under {source} changed during the copy: {named('vanished')}", result=self.result
            )


def copy_prefix(
    client: S3Client,
    source: S3Url,
    destination: S3Url,
    *,
    in_flight: int = 8,
    multipart_threshold: int = MAX_COPY_SIZE,
    part_size: int = 512 * MiB,
    on_progress: Callable[[CopyResult], None] | None = None,
    dry_run: bool = False,
    page_size: int = BATCH_LIMIT,
    backoff_base: float = 0.2,
    key_range: KeyRange = EVERYTHING,
) -> CopyResult:
    """Copy and verify every object under `source` (in `key_range`, relative to it) to
    `destination` (see the module docstring).

    `on_progress(result_so_far)` runs in the calling thread after each object.
    """
    guard_copy(source, destination)
    if not MIN_PART_SIZE <= part_size <= MAX_COPY_SIZE:
        raise ValueError(f"part_size must be between {MIN_PART_SIZE} and {MAX_COPY_SIZE} bytes")
    if not 0 <= multipart_threshold <= MAX_COPY_SIZE:
        raise ValueError(f"multipart_threshold must be between 0 and {MAX_COPY_SIZE} bytes")
    options = Options(dry_run, multipart_threshold, part_size, backoff_base)
    tally = CopyTally(dry_run=dry_run)

    def pairs() -> Iterator[Pair]:
        for pair in listed_pairs(client, source, destination, page_size=page_size, key_range=key_range):
            if tally.problems:
                return
            yield pair

    def on_result(outcome: Outcome) -> None:
        tally.add(outcome)
        if on_progress is not None:
            on_progress(tally.result)

    try:
        run_bounded(pairs(), lambda pair: copy_one(client, pair, options), in_flight=in_flight, on_result=on_result)
        tally.raise_if_failed(source, destination)
    except S3OperationError as error:
        error.result = tally.result
        raise
    return tally.result


def move_prefix(
    client: S3Client,
    source: S3Url,
    destination: S3Url,
    *,
    in_flight: int = 8,
    batches_in_flight: int = 4,
    multipart_threshold: int = MAX_COPY_SIZE,
    part_size: int = 512 * MiB,
    on_progress: Callable[[CopyResult], None] | None = None,
    dry_run: bool = False,
    max_key_retries: int = 5,
    page_size: int = BATCH_LIMIT,
    backoff_base: float = 0.2,
    journal: Journal | None = None,
    key_range: KeyRange = EVERYTHING,
) -> CopyResult:
    """copy_prefix, then delete the sources whose verified copies still match them
    (only the keys in `key_range`: one shard of a sharded move)."""
    source_fence = guard(source, "move")
    copied = copy_prefix(
        client,
        source,
        destination,
        in_flight=in_flight,
        multipart_threshold=multipart_threshold,
        part_size=part_size,
        on_progress=on_progress,
        dry_run=dry_run,
        page_size=page_size,
        backoff_base=backoff_base,
        key_range=key_range,
    )
    if dry_run:
        return copied
    tally = DeleteTally()
    left: list[KeyFailure] = []

    def current() -> CopyResult:
        return replace(copied, objects_deleted=tally.objects, bytes_deleted=tally.bytes)

    def progress(_: DeleteTally) -> None:
        if on_progress is not None:
            on_progress(current())

    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="s3-head") as heads:
        batches = _verified_sources(
            client,
            source,
            destination,
            page_size=page_size,
            heads=heads,
            left=left,
            backoff_base=backoff_base,
            key_range=key_range,
        )
        try:
            delete_targets(
                client,
                source_fence,
                batches,
                tally=tally,
                batches_in_flight=batches_in_flight,
                max_key_retries=max_key_retries,
                backoff_base=backoff_base,
                on_batch=progress,
                journal=journal,
            )
            tally.raise_if_failed(str(source))
        except S3OperationError as error:
            error.result = current()
            raise
    left += tally.changed
    if left:
        raise SourceChanged(
            f"{len(left)} objects under {source} changed or appeared after they were copied "
            f"and were not deleted: {shown(left)}",
            result=current(),
        )
    return current()


def _verified_sources(
    client: S3Client,
    source: S3Url,
    destination: S3Url,
    *,
    page_size: int,
    heads: ThreadPoolExecutor,
    left: list[KeyFailure],
    backoff_base: float,
    key_range: KeyRange,
) -> Iterator[list[Target]]:
    """Batches of source objects whose destination holds a verified copy of them as listed now."""

    def verified(pair: Pair) -> bool:
        if pair.found is None:
            return False
        if is_verified_copy(pair.etag, pair.size, etag=pair.found.etag, size=pair.found.size):
            return True
        found = head(client, pair.destination, backoff_base=backoff_base)
        return found is not None and is_verified_copy(
            pair.etag,
            pair.size,
            etag=unquoted(found["ETag"]),
            size=int(found["ContentLength"]),
            metadata=found.get("Metadata"),
        )

    pairs = listed_pairs(client, source, destination, page_size=page_size, key_range=key_range)
    for batch in chunks(pairs, BATCH_LIMIT):
        targets = []
        for pair, ok in zip(batch, heads.map(verified, batch), strict=True):
            if ok:
                targets.append(Target(pair.source.key, pair.size, etag=f'"{pair.etag}"'))
            else:
                left.append(KeyFailure(pair.source.key, "NotCopied" if pair.found is None else "Changed"))
        if targets:
            yield targets
