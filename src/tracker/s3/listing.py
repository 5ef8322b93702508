"""Listing a prefix page by page, inside the prefix fence."""

from __future__ import annotations

from collections.abc import Iterator

from tracker.domain.records import OutputObject
from tracker.domain.s3url import S3Url, contains
from tracker.s3.client import S3Client


class FenceViolation(RuntimeError):
    """S3 returned a key outside the requested prefix; nothing is done with it."""


def iter_pages(client: S3Client, prefix: S3Url, *, page_size: int = 1000) -> Iterator[list[OutputObject]]:
    """Every object under `prefix`, one list per ListObjectsV2 page (memory bounded)."""
    paginator = client.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key,
                               PaginationConfig={"PageSize": page_size})
    for page in pages:
        objects = []
        for item in page.get("Contents", ()):
            url = S3Url(prefix.bucket, item["Key"])
            if not contains(prefix, url):
                raise FenceViolation(f"listing {prefix} returned {url}, outside the prefix")
            objects.append(OutputObject(
                url=str(url), size=int(item["Size"]), last_modified=item.get("LastModified"),
                etag=(item.get("ETag") or "").strip('"') or None, storage_class=item.get("StorageClass"),
            ))
        yield objects
