"""Recognising a verified copy: the marker every copy carries, and the checks on it.

A copy is made with MetadataDirective=REPLACE: `attributes` is what it must set again
(content headers, storage class, user metadata) plus the marker
`x-amz-meta-tracker-source-etag` naming the source's ETag. A copy is verified when its
size matches and it has the source's ETag or that marker (`is_verified_copy`); `verify`
checks a fresh copy (and its MD5 ETag where S3 keeps one), `existing` what a
destination already held.
"""

from __future__ import annotations

from typing import Any, cast

from botocore.exceptions import ClientError

from tracker.domain.records import OutputObject
from tracker.domain.s3url import S3Url
from tracker.s3.client import S3Client
from tracker.s3.errors import error_code
from tracker.s3.pairs import Outcome, Pair
from tracker.s3.retry import call_s3

MARKER = "tracker-source-etag"
_CARRIED = (
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "ContentLanguage",
    "CacheControl",
    "WebsiteRedirectLocation",
    "StorageClass",
)
_NOT_MD5 = ("aws:kms", "aws:kms:dsse")


def is_verified_copy(
    source_etag: str, source_size: int, *, etag: str | None, size: int, metadata: dict[str, str] | None = None
) -> bool:
    """Same size, and the same ETag or our marker naming the source's ETag."""
    if not source_etag or size != source_size:
        return False
    return etag == source_etag or (metadata or {}).get(MARKER) == source_etag


def unquoted(etag: str | None) -> str:
    return (etag or "").strip('"')


def head(client: S3Client, url: S3Url, *, backoff_base: float = 0.2) -> dict[str, Any] | None:
    try:
        response = call_s3(
            client.head_object,
            Bucket=url.bucket,
            Key=url.key,
            what=f"reading {url} (HeadObject)",
            backoff_base=backoff_base,
        )
        return cast(dict[str, Any], response)  # read by header name (`attributes` copies a list of them)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def existing(client: S3Client, pair: Pair, found_listed: OutputObject, backoff_base: float) -> str:
    """What the destination already holds at the pair's key, given what its listing showed."""
    if is_verified_copy(pair.etag, pair.size, etag=found_listed.etag, size=found_listed.size):
        return "skipped"
    found = head(client, pair.destination, backoff_base=backoff_base)
    if found is None:
        return "absent"
    metadata = found.get("Metadata") or {}
    if is_verified_copy(
        pair.etag, pair.size, etag=unquoted(found["ETag"]), size=int(found["ContentLength"]), metadata=metadata
    ):
        return "skipped"
    return "stale" if MARKER in metadata else "conflict"


def verify(
    pair: Pair, source_head: dict[str, Any], copied: dict[str, Any] | None, *, etag: str, size: int, multipart: bool
) -> Outcome:
    if copied is None:
        return Outcome("unverified", pair, size, "the copy is missing")
    copied_etag, copied_size = unquoted(copied["ETag"]), int(copied["ContentLength"])
    if not is_verified_copy(etag, size, etag=copied_etag, size=copied_size, metadata=copied.get("Metadata")):
        return Outcome(
            "unverified",
            pair,
            size,
            f"size {copied_size} (expected {size}), marker "
            f"{(copied.get('Metadata') or {}).get(MARKER)!r} (expected {etag!r})",
        )
    md5_etags = all(
        h.get("ServerSideEncryption") not in _NOT_MD5 and not h.get("SSECustomerAlgorithm")
        for h in (source_head, copied)
    )
    if not multipart and "-" not in etag and md5_etags and copied_etag != etag:
        return Outcome("unverified", pair, size, f"ETag {copied_etag} (expected {etag})")
    return Outcome("copied", pair, size)


def attributes(source_head: dict[str, Any], etag: str) -> dict[str, Any]:
    """What a REPLACE copy must set again: content headers, storage class, metadata + marker."""
    attributes = {name: source_head[name] for name in _CARRIED if source_head.get(name)}
    attributes["Metadata"] = {**(source_head.get("Metadata") or {}), MARKER: etag}
    return attributes
