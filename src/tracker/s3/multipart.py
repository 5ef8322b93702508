"""Copying one large object in parts: UploadPartCopy, for objects above the multipart threshold.

CopyObject copies at most 5 GiB; above `multipart_threshold` (at most that) a copy is a
multipart upload of byte ranges of the source, each part conditional on the source's
ETag, with the source's tags and attributes set on the upload. A failed upload is
aborted, so no parts are left behind to be billed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from tracker.s3 import verification
from tracker.s3.client import S3Client
from tracker.s3.pairs import Options, Pair
from tracker.s3.retry import call_s3

log = logging.getLogger(__name__)

MiB, GiB = 2**20, 2**30
MIN_PART_SIZE = 5 * MiB
MAX_COPY_SIZE = 5 * GiB  # the largest CopyObject, and the largest part
MAX_PARTS = 10_000


def part_ranges(size: int, part_size: int) -> list[tuple[int, int]]:
    """Inclusive byte ranges for UploadPartCopy; parts grow if needed to stay within 10,000."""
    part_size = max(part_size, -(-size // MAX_PARTS))
    return [(start, min(start + part_size, size) - 1) for start in range(0, size, part_size)]


def copy_parts(
    client: S3Client, pair: Pair, source_head: dict[str, Any], etag: str, size: int, options: Options
) -> None:
    src, dst = pair.source, pair.destination

    def call(fn: Callable[..., Any], **kwargs: Any) -> Any:
        return call_s3(fn, what=f"copying {src} to {dst} (multipart)", backoff_base=options.backoff_base, **kwargs)

    attributes = verification.attributes(source_head, etag)
    tags = call(client.get_object_tagging, Bucket=src.bucket, Key=src.key)["TagSet"]
    if tags:
        attributes["Tagging"] = urlencode([(tag["Key"], tag["Value"]) for tag in tags])
    upload = call(client.create_multipart_upload, Bucket=dst.bucket, Key=dst.key, **attributes)["UploadId"]
    try:
        parts = []
        for number, (first, last) in enumerate(part_ranges(size, options.part_size), start=1):
            response = call(
                client.upload_part_copy,
                Bucket=dst.bucket,
                Key=dst.key,
                UploadId=upload,
                PartNumber=number,
                CopySource={"Bucket": src.bucket, "Key": src.key},
                CopySourceRange=f"bytes={first}-{last}",
                CopySourceIfMatch=f'"{etag}"',
            )
            parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
        call(
            client.complete_multipart_upload,
            Bucket=dst.bucket,
            Key=dst.key,
            UploadId=upload,
            MultipartUpload={"Parts": parts},
        )
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=dst.bucket, Key=dst.key, UploadId=upload)
        except Exception:
            log.warning("could not abort multipart upload %s of %s", upload, dst, exc_info=True)
        raise
