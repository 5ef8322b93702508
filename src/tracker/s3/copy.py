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

import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urlencode

from botocore.exceptions import ClientError

from tracker.domain.records import OutputObject
from tracker.domain.s3url import S3Url, contains, overlaps, rebase
from tracker.s3.client import S3Client
from tracker.s3.delete import (
    BATCH_LIMIT,
    DeleteTally,
    Journal,
    KeyFailure,
    RefusedPrefix,
    S3OperationError,
    Target,
    call_s3,
    delete_targets,
    denied_as_error,
    error_code,
    refuse_unsafe,
    run_bounded,
    shown,
)
from tracker.s3.listing import iter_pages

log = logging.getLogger(__name__)
S = TypeVar("S")
D = TypeVar("D")
MARKER = "tracker-source-etag"
MiB, GiB = 2**20, 2**30
MIN_PART_SIZE = 5 * MiB
MAX_COPY_SIZE = 5 * GiB  # the largest CopyObject, and the largest part
MAX_PARTS = 10_000
_CARRIED = ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl",
            "WebsiteRedirectLocation", "StorageClass")
_NOT_MD5 = ("aws:kms", "aws:kms:dsse")


class OverlappingPrefixes(RefusedPrefix):
    """Source and destination share objects; copying would read what it writes."""


class CopyNotVerified(S3OperationError):
    reason = "CopyNotVerified"


class DestinationConflict(S3OperationError):
    reason = "DestinationConflict"


class SourceChanged(S3OperationError):
    reason = "SourceChanged"


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


@dataclass(frozen=True)
class Pair:
    """A source object, where its copy goes, and what the destination listing showed there."""

    source: S3Url
    destination: S3Url
    size: int
    etag: str
    found: OutputObject | None


@dataclass(frozen=True)
class Outcome:
    kind: str  # copied | skipped | would_copy | conflict | unverified | vanished
    pair: Pair
    size: int = 0
    detail: str = ""


def part_ranges(size: int, part_size: int) -> list[tuple[int, int]]:
    """Inclusive byte ranges for UploadPartCopy; parts grow if needed to stay within 10,000."""
    part_size = max(part_size, -(-size // MAX_PARTS))
    return [(start, min(start + part_size, size) - 1) for start in range(0, size, part_size)]


def is_verified_copy(source_etag: str, source_size: int, *, etag: str | None, size: int,
                     metadata: dict[str, str] | None = None) -> bool:
    """Same size, and the same ETag or our marker naming the source's ETag."""
    if not source_etag or size != source_size:
        return False
    return etag == source_etag or (metadata or {}).get(MARKER) == source_etag


def pair_by_key(sources: Iterable[tuple[str, S]], destinations: Iterable[tuple[str, D]]) -> Iterator[tuple[str, S, D | None]]:
    """Merge two listings sorted by key: each source with the destination of the same key, if any."""
    remaining = iter(destinations)
    current = next(remaining, None)
    last_source = last_destination = None
    for key, item in sources:
        if last_source is not None and key <= last_source:
            raise ValueError(f"source listing out of order at {key!r}")
        last_source = key
        while current is not None and current[0] < key:
            last_destination, current = current[0], next(remaining, None)
            if current is not None and current[0] <= last_destination:
                raise ValueError(f"destination listing out of order at {current[0]!r}")
        yield key, item, current[1] if current is not None and current[0] == key else None


def chunks(items: Iterable[S], size: int) -> Iterator[list[S]]:
    batch: list[S] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def unquoted(etag: str | None) -> str:
    return (etag or "").strip('"')


def check_prefixes(source: S3Url, destination: S3Url) -> None:
    for name, prefix in (("source", source), ("destination", destination)):
        if not prefix.is_prefix:
            raise RefusedPrefix(f"the {name} {prefix} is not a prefix: it must end in '/'")
    if overlaps(source, destination):
        raise OverlappingPrefixes(f"refusing to copy {source} to {destination}: the prefixes overlap")


def listed_pairs(client: S3Client, source: S3Url, destination: S3Url, *, page_size: int) -> Iterator[Pair]:
    def relative(prefix: S3Url) -> Iterator[tuple[str, OutputObject]]:
        pages = denied_as_error(iter_pages(client, prefix, page_size=page_size), f"listing {prefix} (s3:ListBucket)")
        base = len(str(prefix))
        for page in pages:
            yield from ((obj.url[base:], obj) for obj in page)

    for key, obj, found in pair_by_key(relative(source), relative(destination)):
        target = rebase(source.child(key), source, destination)
        assert contains(destination, target)
        yield Pair(source.child(key), target, obj.size, obj.etag or "", found)


def head(client: S3Client, url: S3Url, *, backoff_base: float = 0.2) -> dict[str, Any] | None:
    try:
        return call_s3(client.head_object, Bucket=url.bucket, Key=url.key, what=f"reading {url} (HeadObject)",
                       backoff_base=backoff_base)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


@dataclass(frozen=True)
class _Options:
    dry_run: bool
    multipart_threshold: int
    part_size: int
    backoff_base: float


def copy_one(client: S3Client, pair: Pair, options: _Options) -> Outcome:
    """Copy one object unless the destination already holds a verified copy; verify."""
    if pair.found is not None:
        verdict = _existing(client, pair, options.backoff_base)
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
                _copy_parts(client, pair, source_head, etag, size, options)
            else:
                call_s3(client.copy_object, what=f"copying {pair.source} to {pair.destination} (CopyObject)",
                        Bucket=pair.destination.bucket, Key=pair.destination.key,
                        CopySource={"Bucket": pair.source.bucket, "Key": pair.source.key},
                        CopySourceIfMatch=f'"{etag}"', MetadataDirective="REPLACE", backoff_base=options.backoff_base,
                        **_attributes(source_head, etag))
        except ClientError as error:
            if error_code(error) in ("PreconditionFailed", "412") and attempt < 2:
                continue  # the source changed between HeadObject and the copy: copy the new one
            raise
        copied = head(client, pair.destination, backoff_base=options.backoff_base)
        return _verify(pair, source_head, copied, etag=etag, size=size, multipart=multipart)
    raise AssertionError("unreachable")


def _existing(client: S3Client, pair: Pair, backoff_base: float) -> str:
    assert pair.found is not None
    if is_verified_copy(pair.etag, pair.size, etag=pair.found.etag, size=pair.found.size):
        return "skipped"
    found = head(client, pair.destination, backoff_base=backoff_base)
    if found is None:
        return "absent"
    metadata = found.get("Metadata") or {}
    if is_verified_copy(pair.etag, pair.size, etag=unquoted(found["ETag"]), size=int(found["ContentLength"]),
                        metadata=metadata):
        return "skipped"
    return "stale" if MARKER in metadata else "conflict"


def _verify(pair: Pair, source_head: dict[str, Any], copied: dict[str, Any] | None, *, etag: str, size: int,
            multipart: bool) -> Outcome:
    if copied is None:
        return Outcome("unverified", pair, size, "the copy is missing")
    copied_etag, copied_size = unquoted(copied["ETag"]), int(copied["ContentLength"])
    if not is_verified_copy(etag, size, etag=copied_etag, size=copied_size, metadata=copied.get("Metadata")):
        return Outcome("unverified", pair, size, f"size {copied_size} (expected {size}), marker "
                                                 f"{(copied.get('Metadata') or {}).get(MARKER)!r} (expected {etag!r})")
    md5_etags = all(h.get("ServerSideEncryption") not in _NOT_MD5 and not h.get("SSECustomerAlgorithm")
                    for h in (source_head, copied))
    if not multipart and "-" not in etag and md5_etags and copied_etag != etag:
        return Outcome("unverified", pair, size, f"ETag {copied_etag} (expected {etag})")
    return Outcome("copied", pair, size)


def _attributes(source_head: dict[str, Any], etag: str) -> dict[str, Any]:
    """What a REPLACE copy must set again: content headers, storage class, metadata + marker."""
    attributes = {name: source_head[name] for name in _CARRIED if source_head.get(name)}
    attributes["Metadata"] = {**(source_head.get("Metadata") or {}), MARKER: etag}
    return attributes


def _copy_parts(client: S3Client, pair: Pair, source_head: dict[str, Any], etag: str, size: int,
                options: _Options) -> None:
    src, dst = pair.source, pair.destination

    def call(fn: Callable[..., Any], **kwargs: Any) -> Any:
        return call_s3(fn, what=f"copying {src} to {dst} (multipart)", backoff_base=options.backoff_base, **kwargs)

    attributes = _attributes(source_head, etag)
    tags = call(client.get_object_tagging, Bucket=src.bucket, Key=src.key)["TagSet"]
    if tags:
        attributes["Tagging"] = urlencode([(tag["Key"], tag["Value"]) for tag in tags])
    upload = call(client.create_multipart_upload, Bucket=dst.bucket, Key=dst.key, **attributes)["UploadId"]
    try:
        parts = []
        for number, (first, last) in enumerate(part_ranges(size, options.part_size), start=1):
            response = call(client.upload_part_copy, Bucket=dst.bucket, Key=dst.key, UploadId=upload,
                            PartNumber=number, CopySource={"Bucket": src.bucket, "Key": src.key},
                            CopySourceRange=f"bytes={first}-{last}", CopySourceIfMatch=f'"{etag}"')
            parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
        call(client.complete_multipart_upload, Bucket=dst.bucket, Key=dst.key, UploadId=upload,
             MultipartUpload={"Parts": parts})
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=dst.bucket, Key=dst.key, UploadId=upload)
        except Exception:
            log.warning("could not abort multipart upload %s of %s", upload, dst, exc_info=True)
        raise


@dataclass
class CopyTally:
    dry_run: bool = False
    result: CopyResult = CopyResult()
    problems: dict[str, list[Outcome]] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        r = self.result
        found = replace(r, objects_found=r.objects_found + 1, bytes_found=r.bytes_found + outcome.pair.size,
                        dry_run=self.dry_run)
        if outcome.kind in ("copied", "skipped"):
            skipped = outcome.kind == "skipped"
            found = replace(found, objects_skipped=found.objects_skipped + skipped)
            if not self.dry_run:
                found = replace(found, objects_copied=found.objects_copied + 1,
                                bytes_copied=found.bytes_copied + outcome.size)
        elif outcome.kind != "would_copy":
            self.problems.setdefault(outcome.kind, []).append(outcome)
        self.result = found

    def raise_if_failed(self, source: S3Url, destination: S3Url) -> None:
        def named(kind: str) -> str:
            return shown([KeyFailure(o.pair.source.key, o.detail) for o in self.problems[kind]])

        if "unverified" in self.problems:
            raise CopyNotVerified(f"{len(self.problems['unverified'])} copies from {source} to {destination} "
                                  f"did not verify: {named('unverified')}", result=self.result)
        if "conflict" in self.problems:
            raise DestinationConflict(f"{len(self.problems['conflict'])} objects under {destination} are not "
                                      f"copies of their sources and would be overwritten: {named('conflict')}; "
                                      "remove them or choose another destination", result=self.result)
        if "vanished" in self.problems:
            raise SourceChanged(f"objects under {source} changed during the copy: {named('vanished')}",
                                result=self.result)


def copy_prefix(client: S3Client, source: S3Url, destination: S3Url, *, in_flight: int = 8,
                multipart_threshold: int = MAX_COPY_SIZE, part_size: int = 512 * MiB,
                on_progress: Callable[[CopyResult], None] | None = None, dry_run: bool = False,
                page_size: int = BATCH_LIMIT, backoff_base: float = 0.2) -> CopyResult:
    """Copy and verify every object under `source` to `destination` (see the module docstring).

    `on_progress(result_so_far)` runs in the calling thread after each object.
    """
    check_prefixes(source, destination)
    if not MIN_PART_SIZE <= part_size <= MAX_COPY_SIZE:
        raise ValueError(f"part_size must be between {MIN_PART_SIZE} and {MAX_COPY_SIZE} bytes")
    if not 0 <= multipart_threshold <= MAX_COPY_SIZE:
        raise ValueError(f"multipart_threshold must be between 0 and {MAX_COPY_SIZE} bytes")
    options = _Options(dry_run, multipart_threshold, part_size, backoff_base)
    tally = CopyTally(dry_run=dry_run)

    def pairs() -> Iterator[Pair]:
        for pair in listed_pairs(client, source, destination, page_size=page_size):
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


def move_prefix(client: S3Client, source: S3Url, destination: S3Url, *, in_flight: int = 8,
                batches_in_flight: int = 4, multipart_threshold: int = MAX_COPY_SIZE, part_size: int = 512 * MiB,
                on_progress: Callable[[CopyResult], None] | None = None, dry_run: bool = False,
                max_key_retries: int = 5, page_size: int = BATCH_LIMIT, backoff_base: float = 0.2,
                journal: Journal | None = None) -> CopyResult:
    """copy_prefix, then delete the sources whose verified copies still match them."""
    refuse_unsafe(source, "move")
    copied = copy_prefix(client, source, destination, in_flight=in_flight, multipart_threshold=multipart_threshold,
                         part_size=part_size, on_progress=on_progress, dry_run=dry_run, page_size=page_size,
                         backoff_base=backoff_base)
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
        batches = _verified_sources(client, source, destination, page_size=page_size, heads=heads, left=left,
                                    backoff_base=backoff_base)
        try:
            delete_targets(client, source.bucket, batches, tally=tally, batches_in_flight=batches_in_flight,
                           max_key_retries=max_key_retries, backoff_base=backoff_base, on_batch=progress,
                           journal=journal)
            tally.raise_if_failed(str(source))
        except S3OperationError as error:
            error.result = current()
            raise
    left += tally.changed
    if left:
        raise SourceChanged(f"{len(left)} objects under {source} changed or appeared after they were copied "
                            f"and were not deleted: {shown(left)}", result=current())
    return current()


def _verified_sources(client: S3Client, source: S3Url, destination: S3Url, *, page_size: int,
                      heads: ThreadPoolExecutor, left: list[KeyFailure], backoff_base: float) -> Iterator[list[Target]]:
    """Batches of source objects whose destination holds a verified copy of them as listed now."""

    def verified(pair: Pair) -> bool:
        if pair.found is None:
            return False
        if is_verified_copy(pair.etag, pair.size, etag=pair.found.etag, size=pair.found.size):
            return True
        found = head(client, pair.destination, backoff_base=backoff_base)
        return found is not None and is_verified_copy(
            pair.etag, pair.size, etag=unquoted(found["ETag"]), size=int(found["ContentLength"]),
            metadata=found.get("Metadata"))

    for batch in chunks(listed_pairs(client, source, destination, page_size=page_size), BATCH_LIMIT):
        targets = []
        for pair, ok in zip(batch, heads.map(verified, batch), strict=True):
            if ok:
                targets.append(Target(pair.source.key, pair.size, etag=f'"{pair.etag}"'))
            else:
                left.append(KeyFailure(pair.source.key, "NotCopied" if pair.found is None else "Changed"))
        if targets:
            yield targets
