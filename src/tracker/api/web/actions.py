"""The Actions menu's pages: `GET /runs/{run}/delete-outputs` asks to type `delete`,
`POST` there creates the run's `delete_outputs` OutputLifecycleJob with the signed-in
user's own bearer token (so Kubernetes RBAC and the requester-identity admission policy
judge it exactly as they judge `kubectl apply`; the API's service account needs no
right on lifecycle jobs), and `GET /runs/{run}/delete-outputs/{job}` follows that job,
reloading itself while it is active.

Only the run's owner and its cluster's or global admins are offered the action, and
only in `kubernetes` authentication mode (`tracker.domain.runactions`). The form is
read by hand, as the login and notes forms are; a POST from another origin is refused.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from kubernetes.client.exceptions import ApiException
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from urllib3.exceptions import HTTPError

from tracker.api import deps, paths, schemas
from tracker.api.auth import User
from tracker.api.routes import runs as runs_api
from tracker.api.web import actions_view, guard
from tracker.api.web.rendering import PageRoute, error_page, render
from tracker.domain.contention import DUPLICATE
from tracker.domain.records import Operation
from tracker.domain.runactions import CONFIRMATION, Offer, confirmation_problem
from tracker.kube.client import api_client_for_token
from tracker.kube.requests import read_job, request_job, requested_record

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False, dependencies=[Depends(guard.page_user)])

MAX_FORM_BYTES = 4 * 1024
NOT_OFFERED = "Deleting this run's outputs is offered to its owner and to admins only."


def menu_context(request: Request, run: schemas.RunSummary) -> dict[str, Any]:
    """What run/actions.html needs on the Run Detail page."""
    return actions_view.menu(_offer(request, run), run)


def _user(request: Request) -> User | None:
    return deps.current_user(request) if request.app.state.authenticator is not None else None


def _offer(request: Request, run: schemas.RunSummary) -> Offer:
    return actions_view.offer_for(deps.get_settings(request), _user(request), run)


def _run(request: Request, run: str) -> schemas.RunDetail:
    with request.app.state.sessions() as session:
        return runs_api.get_run(run, session, deps.get_settings(request), request.query_params.get("namespace"))


def _confirm_page(
    request: Request, run: schemas.RunDetail, offer: Offer, *, status: int = 200, problem: str | None = None
) -> HTMLResponse:
    return render(
        request,
        "delete_outputs.html",
        status=status,
        section="runs",
        run=run,
        offer=offer,
        problem=problem,
        confirmation=CONFIRMATION,
        action=paths.page_path(paths.PAGE_RUN_DELETE_OUTPUTS, run=run.id),
        run_href=paths.page_path(paths.PAGE_RUN, run=run.id),
    )


@router.get(paths.PAGE_RUN_DELETE_OUTPUTS, response_class=HTMLResponse)
def confirm(request: Request, run: str) -> Response:
    detail = _run(request, run)
    offer = _offer(request, detail)
    if not offer.shown:
        return error_page(request, 403, "Not offered", NOT_OFFERED)
    return _confirm_page(request, detail, offer)


@router.post(paths.PAGE_RUN_DELETE_OUTPUTS, response_class=HTMLResponse)
async def delete_outputs(request: Request, run: str) -> Response:
    if not guard.same_origin(request):
        return error_page(request, 403, "Refused", "a deletion requested from another site is refused")
    try:
        form = await guard.small_form(request, MAX_FORM_BYTES)
    except guard.FormTooLarge:
        return error_page(request, 413, "Too large", "the confirmation form is too large")
    return await run_in_threadpool(_delete, request, run, form.get("confirm", ""))


def _delete(request: Request, run: str, typed: str) -> Response:
    detail = _run(request, run)
    offer = _offer(request, detail)
    if not offer.shown:
        return error_page(request, 403, "Not offered", NOT_OFFERED)
    if not offer.enabled:
        return _confirm_page(request, detail, offer, status=409)
    problem = confirmation_problem(typed)
    if problem is not None:
        return _confirm_page(request, detail, offer, status=422, problem=problem)
    token, _ = guard.bearer_token(request)
    try:
        with api_client_for_token(request.app.state.kube_api, token or "") as api:
            created = request_job(
                api,
                namespace=detail.namespace,
                run_ref=detail.run_name,
                run_resource_name=detail.name,
                operation=Operation.DELETE_OUTPUTS,
            )
    except ApiException as error:
        refused = actions_view.refusal(error.status or 503, error.body, error.reason)
        return _confirm_page(request, detail, offer, status=refused.status, problem=refused.message)
    except (HTTPError, OSError, RuntimeError) as error:  # unreachable, or a review without user info
        refused = actions_view.refusal(503, None, str(error))
        return _confirm_page(request, detail, offer, status=503, problem=refused.message)
    log.info(
        "%s requested lifecycle job %s/%s: delete the outputs of run %s",
        created["spec"]["requestedBy"],
        detail.namespace,
        created["metadata"]["name"],
        detail.id,
    )
    job = paths.page_path(paths.PAGE_RUN_DELETE_JOB, run=detail.id, job=created["metadata"]["name"])
    return RedirectResponse(job, status_code=303)


@router.get(paths.PAGE_RUN_DELETE_JOB, response_class=HTMLResponse)
def job_progress(request: Request, run: str, job: str) -> Response:
    detail = _run(request, run)
    if request.app.state.authenticator is None or request.app.state.kube_api is None:
        return error_page(
            request, 404, "Not here", "Lifecycle jobs are followed here in kubernetes authentication mode."
        )
    token, _ = guard.bearer_token(request)
    try:
        with api_client_for_token(request.app.state.kube_api, token or "") as api:
            body = read_job(api, namespace=detail.namespace, name=job)
            requested, followed = requested_record(body), None
            active = (body.get("status") or {}).get("activeJob") or {}
            if requested.reason == DUPLICATE and active.get("name"):
                followed = requested_record(read_job(api, namespace=detail.namespace, name=str(active["name"])))
    except ApiException as error:
        if error.status == 404:
            return error_page(
                request, 404, "No such job", f"no lifecycle job {job!r} in namespace {detail.namespace!r}"
            )
        refused = actions_view.refusal(error.status or 503, error.body, error.reason)
        return error_page(request, refused.status, refused.title, refused.message)
    except (HTTPError, OSError) as error:
        return error_page(request, 503, "Kubernetes unavailable", f"cannot read lifecycle job {job!r}: {error}")
    if requested.run not in (detail.run_name, detail.id):
        return error_page(request, 404, "No such job", f"lifecycle job {job!r} is not a job of run {detail.run_name!r}")
    view = actions_view.progress(requested, followed, taken_on=bool(body.get("status")))
    return render(
        request,
        "delete_progress.html",
        section="runs",
        run=detail,
        view=view,
        refresh=actions_view.REFRESH_SECONDS if view.active else None,
        run_href=paths.page_path(paths.PAGE_RUN, run=detail.id),
    )
