"""Publishing a finished run's output files to S3 under its outputDir, so the
operator indexes them and lookup, delete and move work for runs whose engine keeps
outputs on local disk (the WDL engines). Only under the run's own prefix."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from tracker.domain.s3url import S3Url, parse_prefix

Upload = Callable[[Path, S3Url], None]


class PublishError(Exception):
    """An output file could not be uploaded; `str()` is one line for a user."""


def run_prefix(publish_to: S3Url, run_name: str) -> str:
    """Where a run's outputs go: the publishing prefix plus the run's name."""
    return str(parse_prefix(f"{publish_to}{run_name}/", field="publish prefix"))


def output_files(outputs: Any, base: Path | None) -> list[Path]:
    """The files a run's outputs name (strings that are paths of existing files, in
    any structure; relative ones from `base`), each once."""
    found: dict[Path, None] = {}

    def walk(value: Any) -> None:
        if isinstance(value, str):
            path = Path(value) if os.path.isabs(value) or base is None else base / value
            if path.is_file():
                found[path.resolve()] = None
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(outputs or {})
    return list(found)


def publish(files: list[Path], prefix: str, base: Path | None, upload: Upload) -> None:
    """Upload each file under `prefix`, by its path below `base` (else its name)."""
    target = parse_prefix(prefix, field="publish prefix")
    root = base.resolve() if base else None
    for path in files:
        relative = path.relative_to(root) if root and path.is_relative_to(root) else Path(path.name)
        upload(path, S3Url(target.bucket, target.key + relative.as_posix()))


def s3_upload(make_client: Callable[[], Any]) -> Upload:
    """An `Upload` through one boto3 client (made on first use)."""
    clients: list[Any] = []

    def upload(path: Path, target: S3Url) -> None:
        try:
            if not clients:
                clients.append(make_client())
            clients[0].upload_file(str(path), target.bucket, target.key)
        except (BotoCoreError, ClientError, S3UploadFailedError, OSError) as error:
            raise PublishError(f"cannot upload {path} to {target}: {error}") from error

    return upload


def default_client() -> Any:
    """An S3 client from the tracker's settings (`TRACKER_S3__*`) and the standard
    AWS credentials chain."""
    from tracker.s3.client import make_client
    from tracker.settings import Settings

    return make_client(Settings().s3)
