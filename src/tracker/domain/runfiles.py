"""Which files of a run the API reads from S3, and how much: the runner's log, a task's
stdout/stderr, and the byte range of a tail. Pure.

The API reads only objects under the run's own prefixes (its workDir and outputDir as
the index knows them): `confine` refuses anything else, and any `.`, `..` or empty
segment below the prefix (S3 keys are literal, but a path that needs them is not one
the runner wrote). A log the runner reported as a local path (`file://`, `/...`) lives
on the runner's machine: it cannot be read, and `Unreadable` says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tracker.domain.s3url import SCHEME, InvalidS3Url, S3Url, parse_url

# Nextflow keeps each task's streams in its work dir; the WDL reporters publish theirs
# under the same names (and the command as `.command.sh`, as Nextflow does).
TASK_STREAMS = {"stdout": ".command.out", "stderr": ".command.err", "log": ".command.log"}
TASK_COMMAND = ".command.sh"
PLACEHOLDERS = ("run_name", "session_id", "run_id")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class Unreadable(ValueError):
    """A location the API will not (or cannot) read; the message says why."""


def run_prefixes(*directories: str | None) -> tuple[S3Url, ...]:
    """The S3 prefixes of a run's directories (workDir, outputDir), each ending in `/`;
    absent or non-S3 ones are left out."""
    prefixes = []
    for text in directories:
        if not text or not text.startswith(SCHEME):
            continue
        try:
            url = parse_url(text if text.endswith("/") else text + "/")
        except InvalidS3Url:
            continue
        if not url.is_bucket_root:
            prefixes.append(url)
    return tuple(prefixes)


def is_local(location: str) -> bool:
    return location.startswith(("file:", "/")) or "://" not in location


def confine(location: str, prefixes: Iterable[S3Url]) -> S3Url:
    """`location` as an object URL, when it lies under one of `prefixes`; `Unreadable` otherwise."""
    if is_local(location):
        raise Unreadable(
            f"{location} is a local path on the runner's machine: the tracker reads logs from S3 only "
            "(copy the log under the run's work directory)"
        )
    try:
        url = parse_url(location)
    except InvalidS3Url as error:
        raise Unreadable(str(error)) from error
    if url.is_prefix:
        raise Unreadable(f"{location} is a prefix, not an object")
    for prefix in prefixes:
        if url.bucket == prefix.bucket and url.key.startswith(prefix.key):
            if any(segment in ("", ".", "..") for segment in url.key[len(prefix.key) :].split("/")):
                raise Unreadable(f"{location} has an empty, '.' or '..' segment below {prefix}")
            return url
    raise Unreadable(f"{location} lies outside the run's work and output directories: the tracker does not read it")


def expand(template: str, **values: str | None) -> str:
    """`template` with `{run_name}`, `{session_id}` and `{run_id}` replaced (an absent
    value by an empty string); other braces are kept as written."""
    for name in PLACEHOLDERS:
        template = template.replace("{" + name + "}", values.get(name) or "")
    return template


def runner_log_location(
    *, reported: str | None, work_dir: str | None, path: str, run_name: str, session_id: str | None, run_id: str
) -> str:
    """Where the runner's log is: the file the runner reported (Nextflow's `logFile`),
    else `path` (a template) under the work dir. `Unreadable` without either."""
    if reported:
        return reported
    if not work_dir:
        raise Unreadable("the run has no work directory, and its runner reported no log file")
    relative = expand(path, run_name=run_name, session_id=session_id, run_id=run_id).lstrip("/")
    return work_dir.rstrip("/") + "/" + relative


def task_log_location(work_dir: str | None, stream: str) -> str:
    """The object of a task's `stream` (stdout, stderr, log) in its work dir."""
    if stream not in TASK_STREAMS:
        raise Unreadable(f"unknown task log {stream!r}: one of {', '.join(TASK_STREAMS)}")
    if not work_dir:
        raise Unreadable("the runner reported no work directory for this task")
    return work_dir.rstrip("/") + "/" + TASK_STREAMS[stream]


@dataclass(frozen=True)
class Span:
    """The bytes `start..end` (inclusive; `end == start - 1` when empty) of an object of `size` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def truncated(self) -> bool:
        return self.start > 0


def tail_span(size: int, wanted: int) -> Span:
    """The last `wanted` bytes of an object of `size` bytes (all of it when smaller)."""
    if size < 0 or wanted < 0:
        raise ValueError("size and wanted must not be negative")
    start = max(0, size - wanted)
    return Span(start, size - 1, size)


def tail_header(wanted: int) -> str:
    """The Range header asking for the last `wanted` bytes (`wanted` >= 1)."""
    if wanted < 1:
        raise ValueError("a tail is at least one byte")
    return f"bytes=-{wanted}"


def parse_content_range(header: str | None, length: int) -> Span:
    """The span a ranged answer holds, from its Content-Range (`bytes 10-19/20`); an
    answer without one is the whole object of `length` bytes."""
    if not header:
        return Span(0, length - 1, length)
    match = _CONTENT_RANGE.fullmatch(header.strip())
    if match is None:
        raise ValueError(f"unexpected Content-Range {header!r}")
    start, end, size = int(match[1]), int(match[2]), match[3]
    return Span(start, end, int(size) if size != "*" else end + 1)


def tail_text(data: bytes, span: Span) -> str:
    """The tail as text: UTF-8 (bad bytes replaced); a tail that starts mid-file drops
    its first, partial line (when it has more than one)."""
    if span.truncated:
        newline = data.find(b"\n")
        if 0 <= newline < len(data) - 1:
            data = data[newline + 1 :]
    return data.decode("utf-8", errors="replace")
