"""Listing a prefix page by page, inside the prefix fence: every key S3 returns is
checked by `tracker.domain.fence` before anything is done with it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tracker.domain.fence import Fence
from tracker.domain.records import OutputObject
from tracker.domain.s3url import S3Url
from tracker.s3.client import S3Client


def iter_pages(client: S3Client, prefix: S3Url, *, page_size: int = 1000) -> Iterator[list[OutputObject]]:
    """Every object under `prefix`, one list per ListObjectsV2 page (memory bounded)."""
    fence = Fence(prefix)
    paginator = client.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key, PaginationConfig={"PageSize": page_size})
    for page in pages:
        objects = []
        for item in page.get("Contents", ()):
            url = fence.check(S3Url(prefix.bucket, item["Key"]), "list")
            objects.append(
                OutputObject(
                    url=str(url),
                    size=int(item["Size"]),
                    last_modified=item.get("LastModified"),
                    etag=(item.get("ETag") or "").strip('"') or None,
                    storage_class=item.get("StorageClass"),
                )
            )
        yield objects


@dataclass(frozen=True)
class ObjectVersion:
    """One entry of ListObjectVersions: a version of an object, or a delete marker."""

    key: str
    version_id: str
    size: int = 0
    is_latest: bool = False
    delete_marker: bool = False


def iter_version_pages(client: S3Client, prefix: S3Url, *, page_size: int = 1000) -> Iterator[list[ObjectVersion]]:
    """Every version and delete marker under `prefix`, one list per ListObjectVersions page.

    Within a page the entry S3 will resume after (NextKeyMarker/NextVersionIdMarker)
    comes last, so a caller can keep it alive until the next page has been listed.
    """
    fence = Fence(prefix)
    paginator = client.get_paginator("list_object_versions")
    pages = paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key, PaginationConfig={"PageSize": page_size})
    for page in pages:
        entries = [
            ObjectVersion(item["Key"], item["VersionId"], int(item.get("Size", 0)), bool(item.get("IsLatest")))
            for item in page.get("Versions", ())
        ]
        entries += [
            ObjectVersion(item["Key"], item["VersionId"], 0, bool(item.get("IsLatest")), delete_marker=True)
            for item in page.get("DeleteMarkers", ())
        ]
        for entry in entries:
            fence.check_key(entry.key, "list versions of")
        marker = (page.get("NextKeyMarker"), page.get("NextVersionIdMarker"))
        entries.sort(key=lambda entry: (entry.key, entry.version_id) == marker)
        yield entries
