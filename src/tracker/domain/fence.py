"""The prefix fence: which objects a lifecycle job on one run may touch.

An object belongs to a run's outputs exactly when it is in the same bucket and its key
starts with the key of the run's `outputDir`, which ends in `/`: so `s3://b/run-1/`
never covers `s3://b/run-10/x`. Keys are literal (case, unicode, `%`, `..`, `//`).

This module owns the rule; admission (`tracker.domain.lifecycle`), the index lookup of
other runs' outputs (`tracker.store.lookup`), listing (`tracker.s3.listing`), the delete
engine and the move engine all call it:

- `Fence(prefix)` answers `holds(url)` and `check(url)` (raises `FenceViolation`) and
  gives the literal text range of its URLs for index scans (`text_bounds`).
- `guard(prefix, action)` is the fence of a prefix a job may empty (delete, move):
  never a bucket root (`BucketRoot`).
- `guard_copy(source, destination)` refuses overlapping prefixes
  (`OverlappingPrefixes`).
- `refuse_shared(prefix, runs)` refuses a prefix that also holds other runs' outputs
  (`SharedPrefix`, naming them).

Every error is an `InvalidS3Url` whose `reason` is the job's failure reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tracker.domain.s3url import SCHEME, InvalidS3Url, S3Url

SHOWN_RUNS = 5


class FenceError(InvalidS3Url):
    """A prefix or object the fence refuses; `reason` is what a job reports."""

    reason = "InvalidPrefix"


class NotAPrefix(FenceError):
    reason = "InvalidPrefix"


class BucketRoot(FenceError):
    reason = "BucketRoot"


class OverlappingPrefixes(FenceError):
    """Source and destination share objects; copying would read what it writes."""

    reason = "OverlappingDestination"


class SharedPrefix(FenceError):
    """The prefix also holds other runs' outputs."""

    reason = "SharedPrefix"

    def __init__(self, message: str, *, runs: tuple[str, ...]) -> None:
        super().__init__(message)
        self.runs = runs


class FenceViolation(FenceError):
    """An object outside the fence was about to be listed, copied or deleted."""

    reason = "FenceViolation"


@dataclass(frozen=True)
class Fence:
    """The objects under one prefix (an `s3://bucket/key/` URL, key empty or ending in `/`)."""

    prefix: S3Url

    def __post_init__(self) -> None:
        if not self.prefix.is_prefix:
            raise NotAPrefix(f"{self.prefix} is not a prefix: it must end in '/'")

    @classmethod
    def of_text(cls, text: str) -> Fence:
        """The fence of a prefix as the index stores it (`s3://bucket/key/`); the bucket
        name is taken as written, not validated again."""
        if not text.startswith(SCHEME) or "/" not in text[len(SCHEME) :]:
            raise NotAPrefix(f"{text!r} is not an s3://bucket/prefix/ URL")
        bucket, _, key = text[len(SCHEME) :].partition("/")
        return cls(S3Url(bucket, key))

    def holds(self, url: S3Url) -> bool:
        return url.bucket == self.prefix.bucket and url.key.startswith(self.prefix.key)

    def check(self, url: S3Url, doing: str = "touch") -> S3Url:
        """`url`, when the fence holds it; else `FenceViolation` naming both."""
        if not self.holds(url):
            raise FenceViolation(f"refusing to {doing} {url}: it lies outside {self.prefix}")
        return url

    def check_key(self, key: str, doing: str = "touch") -> str:
        return self.check(S3Url(self.prefix.bucket, key), doing).key

    def overlaps(self, other: S3Url) -> bool:
        """Whether the prefix `other` shares any possible object with this fence."""
        return self.holds(other) or (other.is_prefix and Fence(other).holds(self.prefix))

    def text_bounds(self) -> tuple[str, str | None]:
        """`(low, high)`: every URL string under the fence is `>= low` and (when `high` is
        not None) `< high`, in code-point order; a b-tree range scan for the index."""
        low = str(self.prefix)
        return low, successor(low)


def successor(text: str) -> str | None:
    """The smallest string above every string that starts with `text` (code-point order)."""
    if not text or ord(text[-1]) == 0x10FFFF:
        return None
    code = ord(text[-1]) + 1
    if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters
        code = 0xE000
    return text[:-1] + chr(code)


def guard(prefix: S3Url, action: str) -> Fence:
    """The fence of a prefix that `action` (delete, move) empties: never a bucket root."""
    if not prefix.is_prefix:
        raise NotAPrefix(f"refusing to {action} {prefix}: a prefix must end in '/'")
    if prefix.is_bucket_root:
        raise BucketRoot(f"refusing to {action} the whole bucket {prefix}: name a prefix under it")
    return Fence(prefix)


def guard_copy(source: S3Url, destination: S3Url, action: str = "copy") -> tuple[Fence, Fence]:
    """The fences of a copy's (or move's, or rewrite's) source and destination, which
    must not overlap."""
    fences = Fence(source), Fence(destination)
    if fences[0].overlaps(destination):
        raise OverlappingPrefixes(
            f"refusing to {action} {source} to {destination}: the prefixes overlap; "
            "choose a destination that neither contains nor lies inside the source"
        )
    return fences


def refuse_shared(prefix: S3Url, runs: Iterable[str], action: str = "touch") -> None:
    """`SharedPrefix` when `runs` (other runs with outputs under or over `prefix`) is not empty."""
    names = tuple(sorted(set(runs)))
    if names:
        shown = ", ".join(repr(n) for n in names[:SHOWN_RUNS])
        more = f" and {len(names) - SHOWN_RUNS} more" if len(names) > SHOWN_RUNS else ""
        raise SharedPrefix(
            f"outputDir {prefix} also holds the outputs of other runs ({shown}{more}): refusing to {action} them",
            runs=names,
        )


def rebase(url: S3Url, source: Fence, destination: Fence) -> S3Url:
    """`url` (inside `source`) at the same place inside `destination`, checked against both."""
    source.check(url, "move")
    return destination.check(destination.prefix.child(url.key[len(source.prefix.key) :]), "copy to")
