"""S3 URLs and the prefix fence.

S3 keys are literal strings: `a/../b` and `a//b` are keys like any other, and a
percent sign is a percent sign. A run's output prefix is `s3://bucket/key/`; an object
belongs to it exactly when its key starts with the prefix's key, and because a prefix
ends in `/`, `s3://b/run-1/` never covers `s3://b/run-10/x`.

Prefixes that users type (outputDir, destinations) are held to a stricter shape than
keys, because other tools normalise `.`/`..`/empty segments and a user who writes
them probably means something else than S3 will do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEME = "s3://"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
MAX_KEY_BYTES = 1024


class InvalidS3Url(ValueError):
    """A string that is not a usable S3 URL or prefix; the message says why."""


@dataclass(frozen=True, order=True)
class S3Url:
    """An object or prefix location: a bucket and a literal key (possibly empty)."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"

    @property
    def is_prefix(self) -> bool:
        return self.key == "" or self.key.endswith("/")

    @property
    def is_bucket_root(self) -> bool:
        return self.key == ""

    def child(self, relative_key: str) -> S3Url:
        return S3Url(self.bucket, self.key + relative_key)


def parse_url(text: str) -> S3Url:
    """Parse `s3://bucket/key` (key may be empty). Raises `InvalidS3Url`."""
    if not text.startswith(SCHEME):
        raise InvalidS3Url(f"{text!r} is not an S3 URL: it must start with {SCHEME}")
    bucket, _, key = text[len(SCHEME):].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise InvalidS3Url(
            f"{text!r} has an invalid bucket name {bucket!r}: use 3-63 lowercase letters, "
            "digits, dots and hyphens"
        )
    if len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidS3Url(f"{text!r} has a key longer than {MAX_KEY_BYTES} bytes")
    return S3Url(bucket, key)


def parse_prefix(text: str, *, field: str = "prefix") -> S3Url:
    """Parse a user-supplied output prefix `s3://bucket/key/`.

    It must end in `/` and contain no empty, `.` or `..` path segments.
    """
    url = parse_url(text)
    if not text.endswith("/"):
        raise InvalidS3Url(f"{field} must be an s3://bucket/prefix/ URL ending in '/': got {text!r}")
    segments = url.key.split("/")[:-1]
    for segment in segments:
        if segment in ("", ".", ".."):
            shown = segment or "an empty segment ('//')"
            raise InvalidS3Url(f"{field} {text!r} contains {shown}: write the prefix without it")
    return url


def contains(prefix: S3Url, url: S3Url) -> bool:
    """True when `url` lies under `prefix` (same bucket, key starts with the prefix key)."""
    if not prefix.is_prefix:
        raise ValueError(f"{prefix} is not a prefix")
    return url.bucket == prefix.bucket and url.key.startswith(prefix.key)


def overlaps(a: S3Url, b: S3Url) -> bool:
    """True when two prefixes share any possible object (one contains the other)."""
    return contains(a, b) or contains(b, a)


def rebase(url: S3Url, old_prefix: S3Url, new_prefix: S3Url) -> S3Url:
    """`url` moved from under `old_prefix` to the same place under `new_prefix`."""
    if not contains(old_prefix, url):
        raise ValueError(f"{url} is not under {old_prefix}")
    if not new_prefix.is_prefix:
        raise ValueError(f"{new_prefix} is not a prefix")
    return new_prefix.child(url.key[len(old_prefix.key):])


def rebase_text(url: str, old_prefix: str, new_prefix: str) -> str | None:
    """String form of `rebase` for index rows: None when `url` is not under `old_prefix`."""
    return new_prefix + url[len(old_prefix):] if url.startswith(old_prefix) else None
