"""The Reports tab and the proxy its frames, images and downloads load from
(`/runs/{run}/reports/{number}`, signed in by the page's cookie). The data comes from
`tracker.api.routes.reports`, as the API's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from tracker.api import deps, errors, paths, schemas
from tracker.api.routes import logs, reports
from tracker.api.routes.runs import resolve_run
from tracker.api.web.guard import page_user
from tracker.api.web.rendering import PageRoute
from tracker.domain.cost import human_size
from tracker.domain.reports import MANIFEST, MAX_ENTRIES

router = APIRouter(route_class=PageRoute, include_in_schema=False, dependencies=[Depends(page_user)])


def tab_context(request: Request, session: Session, run: schemas.RunDetail) -> dict[str, Any]:
    """What run/reports.html needs; `reports` is empty when none resolve (no tab)."""
    settings = deps.get_settings(request)
    record = resolve_run(session, run.id, None)
    resolved = reports.load(session, settings, logs.reader(request), record, reports.manifests(request))
    shown = [
        {
            "number": r.number,
            "title": r.title,
            "path": r.path,
            "kind": r.kind,
            "size_text": human_size(r.size),
            "too_large": reports.too_large(r, settings),
            "href": paths.page_path(paths.PAGE_RUN_REPORT, run=run.id, number=str(r.number)),
        }
        for r in (resolved.reports if resolved else ())
    ]
    return {
        "reports": shown,
        "report_problems": list(resolved.problems if resolved else ()),
        "report_manifest_name": MANIFEST,
    }


@router.get(paths.PAGE_RUN_REPORT)
def report_file(request: Request, run: str, number: str) -> StreamingResponse:
    if not number.isdigit() or not 1 <= int(number) <= MAX_ENTRIES:
        raise errors.NotFound(f"no report {number!r}")
    settings = deps.get_settings(request)
    with request.app.state.sessions() as session:
        record = resolve_run(session, run, request.query_params.get("namespace") or None)
        return reports.proxy(session, settings, logs.reader(request), record, int(number), reports.manifests(request))
