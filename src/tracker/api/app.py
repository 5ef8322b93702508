"""`create_app(settings, sessions)`: the read API as an ASGI app, built from what it
is given (no globals, no I/O at import; migrations are the entry point's job).

Every `/api/v1` route is guarded by the authentication mode of `settings.api`; the
OpenAPI document, Swagger UI, probes and metrics are open. The web pages
(`tracker.api.web`) use the same authenticator, with a login form and a cookie.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import Depends, FastAPI
from sqlalchemy.orm import Session, sessionmaker

from tracker.api import auth, deps, errors, paths, swagger, tower, web
from tracker.api.metrics import Metrics, MetricsMiddleware
from tracker.api.routes import costs, health, jobs, logs, notes, outputs, reports, runs, tasks
from tracker.settings import Settings

DESCRIPTION = """Read API of the Workflow Tracker: runs, their processes and outputs,
and lifecycle job history, from the SQL index; and notes on runs, which signed-in
users write. Errors answer `{"detail": "..."}`."""


def create_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    kube_api: Any | None = None,
    write_sessions: sessionmaker[Session] | None = None,
) -> FastAPI:
    """The app. `sessions` should be read-only (`session_factory(engine, readonly=True)`);
    `kube_api` is the Kubernetes ApiClient for TokenReviews (`auth_mode: kubernetes`;
    loaded from the environment when not given). With read-write `write_sessions`
    signed-in users write notes on runs, and the Nextflow trace receiver is mounted
    under `settings.tower.base_path`."""
    # docs_url=None: FastAPI's own Swagger UI page loads its assets from a CDN (see tracker.api.swagger)
    app = FastAPI(
        title="Workflow Tracker",
        version=_version(),
        description=DESCRIPTION,
        openapi_url=paths.OPENAPI,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
    )
    if kube_api is None and settings.api.auth_mode == "kubernetes":
        from tracker.kube.client import load_api_client

        kube_api = load_api_client()
    authenticator = auth.make_authenticator(settings.api, kube_api)
    app.state.kube_api = kube_api  # its API server address and CA, for requests made as the signed-in user
    app.state.settings, app.state.sessions, app.state.authenticator = settings, sessions, authenticator
    app.state.write_sessions = write_sessions  # notes are written through them (None: notes are read-only)
    app.state.metrics = Metrics()
    app.state.query_parameters = None  # per operation, from the OpenAPI document on first use (deps)
    errors.install(app)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    guard = deps.anonymous if authenticator is None else deps.authenticated
    guarded = errors.responses(500, 503) | (errors.responses(401) if authenticator is not None else {})
    for router in (
        runs.router,
        tasks.router,
        notes.router,
        outputs.router,
        jobs.router,
        costs.router,
        logs.router,
        reports.router,
    ):
        app.include_router(router, dependencies=[Depends(guard), Depends(deps.known_query_only)], responses=guarded)
    app.include_router(health.router)
    swagger.install(app)  # the Swagger UI and its assets, from a package (no CDN)
    if write_sessions is not None and settings.tower.enabled:
        tower.install(app, settings, write_sessions, kube_api)
    web.install(app)  # the HTML pages and /static, guarded by the same authenticator
    return app


def _version() -> str:
    try:
        return version("workflow-tracker")
    except PackageNotFoundError:
        return "0+unknown"
