"""Workflow-defined reports: the `tracker.yml` manifest at the root of a run's output
dir, parsed strictly, and its entries resolved to the run's indexed objects. Pure.

The format (documented in the README):

    reports:
      - title: MultiQC report
        path: multiqc/multiqc_report.html   # relative to the output dir
        type: html                          # optional: html, image or file

A manifest that cannot be used is not an error of the page: every problem (bad YAML,
a missing title, a path that escapes the output dir, an entry that is not an indexed
object) is listed, and the entries that resolve are kept.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

MANIFEST = "tracker.yml"
MAX_ENTRIES = 100
MAX_TITLE = 200
KINDS = ("html", "image", "file")
ENTRY_KEYS = frozenset({"title", "path", "type"})
_HTML = {".html": "text/html", ".htm": "text/html"}
# Raster images only: an SVG can carry script, so it is a download.
_IMAGES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


@dataclass(frozen=True)
class Entry:
    """One listed report: its title, its path relative to the output dir, how it is shown."""

    title: str
    path: str
    kind: str
    media_type: str


@dataclass(frozen=True)
class Manifest:
    entries: tuple[Entry, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """An entry that resolves to an indexed object of the run."""

    number: int  # its position among the resolved reports, from 1
    title: str
    path: str
    url: str
    kind: str
    media_type: str
    size: int


@dataclass(frozen=True)
class Resolved:
    reports: tuple[Report, ...] = ()
    problems: tuple[str, ...] = ()


def media_type(path: str, kind: str) -> str:
    """What a report is served as: HTML and raster images by their type, anything
    else by its guessed type (or `application/octet-stream`), always downloaded."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if kind == "html":
        return "text/html"
    if kind == "image":
        return _IMAGES.get(suffix, "application/octet-stream")
    guessed, _ = mimetypes.guess_type("x" + suffix, strict=False)
    return guessed or "application/octet-stream"


def kind_of(path: str, declared: str | None) -> str:
    """`declared` when given; else from the extension: html, image, or file."""
    if declared is not None:
        return declared
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return "html" if suffix in _HTML else "image" if suffix in _IMAGES else "file"


def relative_path_problem(path: str) -> str | None:
    """Why `path` is not a usable path relative to the output dir, or None."""
    if not path:
        return "path is empty"
    if path.startswith("/") or "://" in path:
        return f"path {path!r} must be relative to the output dir"
    if "\\" in path or any(ord(c) < 0x20 for c in path):
        return f"path {path!r} contains a backslash or a control character"
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        return f"path {path!r} contains an empty, '.' or '..' segment"
    return None


def parse_manifest(data: bytes, *, max_bytes: int) -> Manifest:
    """The entries of a `tracker.yml` (at most `MAX_ENTRIES`) and the problems found."""
    if len(data) > max_bytes:
        return Manifest(problems=(f"{MANIFEST} is larger than {max_bytes} bytes: not read",))
    try:
        document = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        return Manifest(problems=(f"{MANIFEST} is not UTF-8 text",))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return Manifest(problems=(f"{MANIFEST} is not valid YAML{where}",))
    except RecursionError:
        return Manifest(problems=(f"{MANIFEST} is nested too deeply",))
    if not isinstance(document, Mapping) or "reports" not in document:
        return Manifest(problems=(f"{MANIFEST} must be a mapping with a `reports` list",))
    problems = [f"unknown key {str(k)!r} at the top of {MANIFEST}" for k in document if k != "reports"]
    listed = document["reports"]
    if not isinstance(listed, list):
        return Manifest(problems=(*problems, "`reports` must be a list"))
    if len(listed) > MAX_ENTRIES:
        problems.append(f"`reports` lists {len(listed)} entries: only the first {MAX_ENTRIES} are read")
    entries: list[Entry] = []
    seen: set[str] = set()
    for number, item in enumerate(listed[:MAX_ENTRIES], start=1):
        entry, problem = _entry(item, number)
        if problem is not None:
            problems.append(problem)
        elif entry is not None and entry.path in seen:
            problems.append(f"report {number}: {entry.path!r} is listed twice")
        elif entry is not None:
            seen.add(entry.path)
            entries.append(entry)
    return Manifest(tuple(entries), tuple(problems))


def _entry(item: Any, number: int) -> tuple[Entry | None, str | None]:
    where = f"report {number}"
    if not isinstance(item, Mapping):
        return None, f"{where}: expected a mapping with `title` and `path`"
    unknown = sorted(str(k) for k in item if k not in ENTRY_KEYS)
    if unknown:
        return None, f"{where}: unknown key{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))}"
    title, path, declared = item.get("title"), item.get("path"), item.get("type")
    if not isinstance(title, str) or not title.strip():
        return None, f"{where}: `title` must be a non-empty string"
    if len(title) > MAX_TITLE:
        return None, f"{where}: `title` is longer than {MAX_TITLE} characters"
    if not isinstance(path, str):
        return None, f"{where}: `path` must be a string"
    problem = relative_path_problem(path)
    if problem is not None:
        return None, f"{where}: {problem}"
    if declared is not None and declared not in KINDS:
        return None, f"{where}: `type` must be one of {', '.join(KINDS)}"
    kind = kind_of(path, declared)
    if kind == "image" and not media_type(path, kind).startswith("image/"):
        kind = "file"  # only raster images are shown inline
    return Entry(title.strip(), path, kind, media_type(path, kind)), None


def manifest_url(output_dir: str) -> str:
    return output_dir.rstrip("/") + "/" + MANIFEST


def resolve(manifest: Manifest, *, output_dir: str, indexed: Mapping[str, int]) -> Resolved:
    """The entries whose object (`output_dir` + path) is in `indexed` (URL -> size),
    numbered in order; the others become problems."""
    reports: list[Report] = []
    problems = list(manifest.problems)
    base = output_dir.rstrip("/") + "/"
    for entry in manifest.entries:
        url = base + entry.path
        if url not in indexed:
            problems.append(f"{entry.title!r}: {entry.path} is not an indexed output of this run")
            continue
        reports.append(
            Report(len(reports) + 1, entry.title, entry.path, url, entry.kind, entry.media_type, indexed[url])
        )
    return Resolved(tuple(reports), tuple(problems))
