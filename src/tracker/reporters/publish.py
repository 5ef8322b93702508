"""Publishing a finished run's output files to S3 under its outputDir, so the
operator indexes them and lookup, delete and move work for runs whose engine keeps
outputs on local disk (the WDL engines), and its logs under its work dir, where the
Logs tab reads them. Only under the run's own prefixes."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from tracker.domain.runfiles import TASK_COMMAND, TASK_STREAMS
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


def publish_task_logs(directory: Path, work_dir: str, names: Mapping[str, str], upload: Upload) -> None:
    """Upload an attempt's log files (`names`: the engine's file name in `directory` ->
    the tracker's name, e.g. `stdout` -> `.command.out`) into its work dir on S3;
    files the attempt did not write are skipped."""
    target = parse_prefix(work_dir, field="work dir")
    for local, published in names.items():
        if (directory / local).is_file():
            upload(directory / local, S3Url(target.bucket, target.key + published))


def task_log_names(stdout: str, stderr: str, command: str) -> dict[str, str]:
    """An engine's names of an attempt's stdout, stderr and command file -> the tracker's."""
    return {stdout: TASK_STREAMS["stdout"], stderr: TASK_STREAMS["stderr"], command: TASK_COMMAND}


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
