"""Listing a prefix page by page, inside the prefix fence: every key S3 returns is
checked by `tracker.domain.fence` before anything is done with it. A `KeyRange`
(`tracker.domain.shards`) narrows a listing to one shard's keys: it starts after the
range's start (StartAfter, KeyMarker) and stops at the first key past its end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.domain.fence import Fence
from tracker.domain.records import OutputObject
from tracker.domain.s3url import S3Url
from tracker.domain.shards import EVERYTHING, KeyRange
from tracker.s3.client import S3Client

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import PaginatorConfigTypeDef


def iter_pages(
    client: S3Client, prefix: S3Url, *, page_size: int = 1000, key_range: KeyRange = EVERYTHING
) -> Iterator[list[OutputObject]]:
    """Every object under `prefix` (within `key_range`, relative to it), one list per
    ListObjectsV2 page (memory bounded)."""
    fence = Fence(prefix)
    keys = key_range.absolute(prefix.key)
    paginator = client.get_paginator("list_objects_v2")
    config: PaginatorConfigTypeDef = {"PageSize": page_size}
    pages = (
        paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key, PaginationConfig=config)
        if keys.after is None
        else paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key, PaginationConfig=config, StartAfter=keys.after)
    )
    for page in pages:
        objects: list[OutputObject] = []
        for item in page.get("Contents", ()):
            if keys.beyond(item["Key"]):
                if objects:
                    yield objects
                return
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


def iter_version_pages(
    client: S3Client, prefix: S3Url, *, page_size: int = 1000, key_range: KeyRange = EVERYTHING
) -> Iterator[list[ObjectVersion]]:
    """Every version and delete marker under `prefix` (within `key_range`), one list per
    ListObjectVersions page.

    A range's first page holds only keys after its start: S3 starts after KeyMarker, moto
    with the marker key's later versions, which are left out here.
    Within a page the entry S3 will resume after (NextKeyMarker/NextVersionIdMarker)
    comes last, so a caller can keep it alive until the next page has been listed.
    """
    fence = Fence(prefix)
    keys = key_range.absolute(prefix.key)
    paginator = client.get_paginator("list_object_versions")
    config: PaginatorConfigTypeDef = {"PageSize": page_size}
    pages = (
        paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key, PaginationConfig=config)
        if keys.after is None
        # The first request starts after the range's start; later pages follow NextKeyMarker.
        else paginator.paginate(  # type: ignore[call-arg]
            Bucket=prefix.bucket, Prefix=prefix.key, PaginationConfig=config, KeyMarker=keys.after
        )
    )
    for page in pages:
        entries = [
            ObjectVersion(item["Key"], item["VersionId"], int(item.get("Size", 0)), bool(item.get("IsLatest")))
            for item in page.get("Versions", ())
            if keys.holds(item["Key"])
        ]
        entries += [
            ObjectVersion(item["Key"], item["VersionId"], 0, bool(item.get("IsLatest")), delete_marker=True)
            for item in page.get("DeleteMarkers", ())
            if keys.holds(item["Key"])
        ]
        past_end = any(keys.beyond(item["Key"]) for item in (*page.get("Versions", ()), *page.get("DeleteMarkers", ())))
        for entry in entries:
            fence.check_key(entry.key, "list versions of")
        marker = (page.get("NextKeyMarker"), page.get("NextVersionIdMarker"))
        entries.sort(key=lambda entry: (entry.key, entry.version_id) == marker)
        yield entries
        if past_end:
            return
