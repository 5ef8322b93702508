"""HTML answers: the Jinja2 environment (autoescaping on: every value shown comes
from runners and users), `render`, and `PageRoute`, the route class of the pages,
which turns every error into a readable page (never JSON, never a traceback):
unknown run 404, ambiguous run name 409 with a link to each run it may mean, bad parameters
422, token review or database down 503, anything else a plain 500. A page asked for
without a valid token redirects to the login form."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from tracker.api import errors, paths
from tracker.api.auth import ReviewUnavailable
from tracker.api.web import formats, guard, presenters
from tracker.store.errors import AmbiguousRun, RunNotFound

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
# Scripts and styles come only from /static: no inline code can run.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; frame-src 'self'; base-uri 'none'; connect-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _version() -> str:
    try:
        return version("workflow-tracker")
    except PackageNotFoundError:
        return "0"


@cache
def environment() -> Environment:
    """The templates' environment, built on first use (not at import)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        state_class=formats.state_class,
        job_phase_class=formats.job_phase_class,
        when=formats.when,
        duration=formats.human_duration,
        money=formats.money,
        short_name=presenters.process_short_name,
    )
    env.globals.update(
        paths=paths, page_path=paths.page_path, query=formats.query, asset_version=_version(), NONE=formats.NONE
    )
    return env


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """The page `template` with `context`, plus who is signed in."""
    html = environment().get_template(template).render(user_name=guard.signed_in_as(request), **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def error_page(request: Request, status: int, title: str, message: str, **context: Any) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status=status,
        title=title,
        message=message,
        status_code=status,
        candidates=context.pop("candidates", ()),
        **context,
    )


def page_for(request: Request, error: Exception) -> Response:
    """The answer a page gives for `error`."""
    if isinstance(error, guard.LoginRequired):
        response = RedirectResponse(guard.login_url(request), status_code=303)
        if error.forget_cookie:
            guard.forget_token(response)
        return response
    if isinstance(error, AmbiguousRun):
        return error_page(request, 409, "Which run?", str(error), candidates=error.candidates)
    if isinstance(error, (RunNotFound, errors.NotFound)):
        return error_page(request, 404, "Run not found", str(error))
    if isinstance(error, errors.ApiProblem):
        return error_page(request, error.status, "Bad request", error.detail)
    if isinstance(error, RequestValidationError):
        return error_page(request, 422, "Bad request", errors.readable(list(error.errors())))
    if isinstance(error, HTTPException):
        return error_page(request, error.status_code, "Error", str(error.detail))
    if isinstance(error, ReviewUnavailable):
        return error_page(request, 503, "Cannot check your token", str(error))
    if isinstance(error, OperationalError):
        log.error("database error on %s %s: %s", request.method, request.url.path, error)
        return error_page(request, 503, "Index unavailable", errors.DATABASE_UNAVAILABLE)
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_page(request, 500, "Internal error", errors.INTERNAL_ERROR)


class PageRoute(APIRoute):
    """A route whose errors are answered as HTML pages (see `page_for`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:  # every failure becomes a readable page
                try:
                    return page_for(request, error)
                except Exception as rendering:  # the error page itself failed: a plain answer
                    log.error("cannot render the error page", exc_info=rendering)
                    return HTMLResponse(errors.INTERNAL_ERROR, status_code=500, headers=SECURITY_HEADERS)

        return page_handler
