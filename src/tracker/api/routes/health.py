"""Probes and metrics, never authenticated: `/healthz` (the process answers),
`/readyz` (the index database answers), `/metrics` (Prometheus)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tracker.api import paths, schemas
from tracker.api.metrics import CONTENT_TYPE

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


@router.get(paths.HEALTHZ, response_model=schemas.Health)
def healthz() -> schemas.Health:
    """The process is alive."""
    return schemas.Health(status="ok")


@router.get(
    paths.READYZ,
    response_model=schemas.Health,
    responses={503: {"model": schemas.Health, "description": "the database does not answer"}},
)
def readyz(request: Request) -> schemas.Health | JSONResponse:
    """The index database answers a query."""
    try:
        with request.app.state.sessions() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:  # any failure means "not ready"; the reason goes to the log
        log.warning("not ready: %s", error)
        return JSONResponse(schemas.Health(status="unavailable").model_dump(), status_code=503)
    return schemas.Health(status="ready")


@router.get(paths.METRICS, include_in_schema=False)
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE)
