"""The web pages the read API serves beside `/api/v1`: the runs list (`/runs`), the
Run Detail page (`/runs/{run}`, whose Notes tab posts to `/runs/{run}/notes` and whose
Actions menu leads to `/runs/{run}/delete-outputs`), the tasks view (`/runs/{run}/tasks`),
Process Detail (`/runs/{run}/processes/{process}`) and the
login form, server-rendered from Jinja2 templates with a little plain JavaScript (no
build step), and their static files under `/static`. Guarded by the same authenticator as the JSON routes."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from tracker.api import paths
from tracker.api.web import actions, login, logs_view, notes, pages, reports_view, tasks_pages
from tracker.api.web.rendering import STATIC


def install(app: FastAPI) -> None:
    """Add the pages, the login form and `/static` to `app`."""
    app.include_router(login.router)
    app.include_router(pages.router)
    app.include_router(notes.router)
    app.include_router(actions.router)
    app.include_router(tasks_pages.router)
    app.include_router(logs_view.router)
    app.include_router(reports_view.router)
    app.mount(paths.STATIC, StaticFiles(directory=STATIC), name="static")
