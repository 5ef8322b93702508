"""Signing in to the pages: `GET /login` shows a form for a bearer token (a static
API token or a Kubernetes token, per the authentication mode); `POST /login` checks
it with the API's authenticator and keeps it in an HttpOnly, SameSite=Strict cookie;
`POST /logout` forgets it. With authentication off both lead to the runs list.

The form is read by hand (`application/x-www-form-urlencoded`), so no multipart
parser is needed; a POST from another origin is refused.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tracker.api import paths
from tracker.api.web import guard
from tracker.api.web.rendering import PageRoute, error_page, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_FORM_BYTES = 64 * 1024


@router.get(paths.PAGE_LOGIN, response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    target = guard.safe_next(request.query_params.get("next"))
    if request.app.state.authenticator is None:
        return RedirectResponse(target, status_code=303)
    return render(request, "login.html", next=target, failed=False)


@router.post(paths.PAGE_LOGIN, response_class=HTMLResponse)
async def login(request: Request) -> Response:
    if not guard.same_origin(request):
        return error_page(request, 403, "Refused", "a sign-in from another site is refused")
    try:
        form = await guard.small_form(request, MAX_FORM_BYTES)
    except guard.FormTooLarge:
        return error_page(request, 413, "Too large", "the sign-in form is too large")
    target = guard.safe_next(form.get("next"))
    authenticator = request.app.state.authenticator
    if authenticator is None:
        return RedirectResponse(target, status_code=303)
    token = form.get("token", "").strip()
    user = await run_in_threadpool(authenticator.authenticate, token) if token else None
    if user is None:
        return render(request, "login.html", status=401, next=target, failed=True)
    response = RedirectResponse(target, status_code=303)
    guard.remember_token(response, token, secure=request.url.scheme == "https")
    return response


@router.post(paths.PAGE_LOGOUT)
async def logout(request: Request) -> Response:
    if not guard.same_origin(request):
        return error_page(request, 403, "Refused", "a sign-out from another site is refused")
    target = paths.PAGE_LOGIN if request.app.state.authenticator is not None else paths.PAGE_RUNS
    response = RedirectResponse(target, status_code=303)
    guard.forget_token(response)
    return response
