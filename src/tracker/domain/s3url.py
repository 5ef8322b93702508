"""S3 URLs: parsing object URLs and output prefixes.

S3 keys are literal strings: `a/../b` and `a//b` are keys like any other, and a
percent sign is a percent sign. A run's output prefix is `s3://bucket/key/`; which
objects it holds is the prefix fence's rule (`tracker.domain.fence`).

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
    bucket, _, key = text[len(SCHEME) :].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise InvalidS3Url(
            f"{text!r} has an invalid bucket name {bucket!r}: use 3-63 lowercase letters, digits, dots and hyphens"
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


def parse_lookup_url(text: str) -> S3Url:
    """A URL typed to look outputs up, in any case: `S3://My-Bucket/Key` reads as
    `s3://my-bucket/Key` (bucket names are lowercase, so capitals there are only how it
    was typed; the key keeps its case, the lookup ignores it). Raises `InvalidS3Url`."""
    if text[: len(SCHEME)].lower() == SCHEME:
        bucket, slash, key = text[len(SCHEME) :].partition("/")
        text = SCHEME + bucket.lower() + slash + key
    return parse_url(text)
