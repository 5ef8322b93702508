"""The units of a prefix copy: each source object paired with its destination.

`listed_pairs` merges the listings of the source and destination prefixes (both in
UTF-8 key order) into `Pair`s, each with what the destination listing showed at its
key, each source and destination checked against its prefix fence
(`tracker.domain.fence`). `Options` is how one pair is copied, `Outcome` what copying
it came to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tracker.domain.fence import guard_copy, rebase
from tracker.domain.records import OutputObject
from tracker.domain.s3url import S3Url
from tracker.domain.shards import EVERYTHING, KeyRange
from tracker.s3.client import S3Client
from tracker.s3.errors import denied_as_error
from tracker.s3.listing import iter_pages
from tracker.s3.pipeline import pair_by_key


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


def listed_pairs(
    client: S3Client, source: S3Url, destination: S3Url, *, page_size: int, key_range: KeyRange = EVERYTHING
) -> Iterator[Pair]:
    """The pairs of the source objects in `key_range` (relative keys: the same range
    of the destination is listed beside them)."""
    source_fence, destination_fence = guard_copy(source, destination)

    def relative(prefix: S3Url) -> Iterator[tuple[str, OutputObject]]:
        pages = denied_as_error(
            iter_pages(client, prefix, page_size=page_size, key_range=key_range), f"listing {prefix} (s3:ListBucket)"
        )
        base = len(str(prefix))
        for page in pages:
            yield from ((obj.url[base:], obj) for obj in page)

    for key, obj, found in pair_by_key(relative(source), relative(destination)):
        origin = source.child(key)
        yield Pair(origin, rebase(origin, source_fence, destination_fence), obj.size, obj.etag or "", found)


@dataclass(frozen=True)
class Options:
    dry_run: bool
    multipart_threshold: int
    part_size: int
    backoff_base: float
