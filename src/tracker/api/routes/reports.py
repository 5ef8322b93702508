"""`/runs/{run}/reports`: the reports a run's `tracker.yml` lists (at the root of its
output dir, itself an indexed output) that resolve to its indexed outputs, with the
problems found; and `/runs/{run}/reports/{number}`, one report proxied from S3 with
a size limit. HTML is served under `Content-Security-Policy: sandbox` (no script, an
opaque origin, nothing loaded from elsewhere) even when opened directly; images
inline; anything else as a download. The Reports tab calls the same functions."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tracker.api import errors, paths
from tracker.api.deps import Namespace, SessionDep, SettingsDep
from tracker.api.routes.logs import problems, reader
from tracker.api.routes.runs import RunRef, resolve_run
from tracker.domain import reports, runfiles
from tracker.domain.cost import human_size
from tracker.domain.records import RunRecord
from tracker.s3.reading import Reader, ReadFailed
from tracker.settings import Settings
from tracker.store import runfiles as stored

log = logging.getLogger(__name__)
router = APIRouter(prefix=paths.API, tags=["reports"])

Number = Annotated[int, Path(ge=1, le=reports.MAX_ENTRIES, description="the report's number in the list, from 1")]
# A report page renders as in a sandboxed frame: no script, no same origin, no requests out.
SANDBOX = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline' data:; img-src data:; font-src data:; "
    "frame-ancestors 'self'"
)
REPORT_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": SANDBOX, "Cache-Control": "no-store"}


class ReportItem(BaseModel):
    number: int
    title: str
    path: str
    url: str
    kind: str
    media_type: str
    size: int


class ReportList(BaseModel):
    """The resolved reports, and what was wrong with the manifest (empty when nothing)."""

    run_id: str
    manifest: str | None
    items: list[ReportItem]
    problems: list[str]


class Manifests:
    """Parsed manifests by URL and indexed version (size, ETag): a page view reads an
    unchanged `tracker.yml` from S3 once, not every time. Bounded; failures are not kept."""

    def __init__(self, size: int = 256) -> None:
        self._size, self._kept = size, OrderedDict[tuple[str, int, str | None], reports.Manifest]()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, str | None]) -> reports.Manifest | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: tuple[str, int, str | None], manifest: reports.Manifest) -> None:
        with self._lock:
            self._kept[key] = manifest
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)


def manifests(request: Request) -> Manifests:
    found: Manifests | None = getattr(request.app.state, "report_manifests", None)
    if found is None:
        found = request.app.state.report_manifests = Manifests()
    return found


def load(
    session: Session, settings: Settings, read: Reader, run: RunRecord, cache: Manifests | None = None
) -> reports.Resolved | None:
    """The run's reports, or None when it has no indexed `tracker.yml`. A manifest
    that cannot be read is a problem listed, not an error."""
    if not run.output_dir:
        return None
    url_text = reports.manifest_url(run.output_dir)
    version = stored.indexed_version(session, run_id=run.id, url=url_text)
    if version is None:
        return None
    key = (url_text, *version)
    manifest = cache.get(key) if cache is not None else None
    if manifest is None:
        limit = settings.reports.manifest_max_bytes
        try:
            url = runfiles.confine(url_text, runfiles.run_prefixes(run.output_dir))
            tail = read.tail(url, limit + 1)  # a larger object gives limit + 1 bytes: too large
        except (runfiles.Unreadable, ReadFailed) as error:
            log.warning("cannot read %s: %s", url_text, error)
            return reports.Resolved(problems=(f"{reports.MANIFEST} cannot be read: {error}",))
        manifest = reports.parse_manifest(tail.data, max_bytes=limit)
        if cache is not None:
            cache.put(key, manifest)
    base = run.output_dir.rstrip("/") + "/"
    indexed = stored.indexed_sizes(session, run_id=run.id, urls=[base + e.path for e in manifest.entries])
    return reports.resolve(manifest, output_dir=run.output_dir, indexed=indexed)


def too_large(report: reports.Report, settings: Settings) -> str | None:
    limit = settings.reports.max_bytes
    if report.size > limit:
        shown = human_size(limit)
        return f"{report.title!r} is {human_size(report.size)}: larger than the {shown} shown (reports.max_bytes)"
    return None


def proxy(
    session: Session, settings: Settings, read: Reader, run: RunRecord, number: int, cache: Manifests | None = None
) -> StreamingResponse:
    """Report `number` from S3, streamed; a 404 when there is no such report, a 413
    when it is larger than `reports.max_bytes` (nothing is sent truncated)."""
    resolved = load(session, settings, read, run, cache)
    found = next((r for r in (resolved.reports if resolved else ()) if r.number == number), None)
    if found is None:
        raise errors.NotFound(f"run {run.run_name!r} has no report {number}")
    message = too_large(found, settings)
    if message is not None:
        raise TooLarge(message)
    with problems():
        url = runfiles.confine(found.url, runfiles.run_prefixes(run.output_dir))
        opened = read.open(url)
    if opened.size > settings.reports.max_bytes:
        opened.close()
        raise TooLarge(f"{found.title!r} is larger than {human_size(settings.reports.max_bytes)} (reports.max_bytes)")
    name = found.path.rsplit("/", 1)[-1].replace('"', "")
    disposition = "attachment" if found.kind == "file" else "inline"
    headers = REPORT_HEADERS | {
        "Content-Disposition": f'{disposition}; filename="{name}"',
        "Content-Length": str(opened.size),
    }
    return StreamingResponse(opened.chunks(), media_type=found.media_type, headers=headers)


class TooLarge(errors.ApiProblem):
    status = 413


@router.get(paths.RUN_REPORTS, response_model=ReportList, responses=errors.responses(404, 409, 422))
def run_reports(
    run: RunRef, session: SessionDep, settings: SettingsDep, request: Request, namespace: Namespace = None
) -> ReportList:
    """The reports `tracker.yml` lists that resolve to the run's indexed outputs."""
    record = resolve_run(session, run, namespace)
    resolved = load(session, settings, reader(request), record, manifests(request))
    return ReportList(
        run_id=record.id,
        manifest=reports.manifest_url(record.output_dir) if resolved is not None and record.output_dir else None,
        items=[ReportItem(**asdict(r)) for r in (resolved.reports if resolved else ())],
        problems=list(resolved.problems if resolved else ()),
    )


@router.get(
    paths.RUN_REPORT,
    response_class=StreamingResponse,
    responses=errors.responses(404, 409, 413, 422, 503) | {200: {"content": {"application/octet-stream": {}}}},
)
def run_report(
    run: RunRef,
    number: Number,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    namespace: Namespace = None,
) -> StreamingResponse:
    """One report's file, proxied from S3 (HTML sandboxed, images inline, others downloaded)."""
    record = resolve_run(session, run, namespace)
    return proxy(session, settings, reader(request), record, number, manifests(request))
