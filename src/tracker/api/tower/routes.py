"""The trace routes, mounted under `settings.tower.base_path` (default `/tower`).

Answers are what Nextflow reads: create and begin return a JSON object with
`workflowId` (and `watchUrl`, the run's page); the other calls return the same small
object. Errors are `{"detail": "..."}`: 401 bad or missing token, 403 not allowed in
the namespace or not the caller's run, 404 unknown workflow id, 409 run name taken,
422 a body that is not JSON, has more than 100 tasks or a field that cannot be read.
"""

from __future__ import annotations

import asyncio
import zlib
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from tracker.api import errors, paths
from tracker.api import schemas as api_schemas
from tracker.api.auth import User, make_authenticator
from tracker.api.tower import schemas
from tracker.api.tower.identity import AccessReview, ConfiguredPlacement, RunPermissions, trace_user
from tracker.api.tower.receiver import TraceReceiver
from tracker.api.tower.runs import IndexRuns, RunWriter
from tracker.settings import ApiSettings, Settings
from tracker.store.traces import TraceBinding

Caller = Annotated[User, Depends(trace_user)]
WorkspaceId = Annotated[str | None, Query(alias="workspaceId", description="Nextflow tower.workspaceId")]
ANSWERS = errors.responses(401, 404, 422, 503) | {
    403: {"model": api_schemas.Problem, "description": "not allowed in the namespace, or not the caller's run"},
    409: {"model": api_schemas.Problem, "description": "the run name is taken in the namespace"},
}


def _receiver(request: Request) -> TraceReceiver:
    receiver: TraceReceiver = request.app.state.tower
    return receiver


Receiver = Annotated[TraceReceiver, Depends(_receiver)]
router = APIRouter(tags=["nextflow trace (tower)"], responses=ANSWERS)


def _answer(request: Request, binding: TraceBinding) -> schemas.TraceAnswer:
    settings: Settings = request.app.state.settings
    base = settings.api.base_url.rstrip("/") or str(request.base_url).rstrip("/")
    return schemas.TraceAnswer(
        workflowId=binding.workflow_id, watchUrl=base + paths.page_path(paths.PAGE_RUN, run=binding.run_id)
    )


def _body(model: Any) -> dict[str, Any]:
    return dict(model.model_dump(mode="json"))


def _progress_body(model: schemas.ProgressTrace) -> dict[str, Any]:
    """`_body`, but the task maps as validated: parsed from JSON, they are JSON values
    already, and dumping up to 100 of them again costs more than the rest of the call."""
    return dict(model.model_dump(mode="json", exclude={"tasks"})) | {"tasks": model.tasks}


@router.post("/trace/create", summary="A run starts: get its workflow id")
async def create(
    request: Request, body: schemas.CreateTrace, user: Caller, receiver: Receiver, workspace: WorkspaceId = None
) -> schemas.TraceAnswer:
    binding = await asyncio.to_thread(receiver.create, user, _body(body), workspace_id=workspace)
    return _answer(request, binding)


@router.put("/trace/{workflow_id}/begin", summary="The run begins: spec and Running")
async def begin(
    request: Request,
    workflow_id: str,
    body: schemas.BeginTrace,
    user: Caller,
    receiver: Receiver,
    workspace: WorkspaceId = None,
) -> schemas.TraceAnswer:
    return _answer(request, await asyncio.to_thread(receiver.begin, user, workflow_id, _body(body)))


@router.put("/trace/{workflow_id}/progress", summary="Up to 100 task events and the counters")
async def progress(
    request: Request,
    workflow_id: str,
    body: schemas.ProgressTrace,
    user: Caller,
    receiver: Receiver,
    workspace: WorkspaceId = None,
) -> schemas.TraceAnswer:
    return _answer(request, await asyncio.to_thread(receiver.progress, user, workflow_id, _progress_body(body)))


@router.put("/trace/{workflow_id}/heartbeat", summary="The runner is alive (no task event for a minute)")
async def heartbeat(
    request: Request,
    workflow_id: str,
    body: schemas.HeartbeatTrace,
    user: Caller,
    receiver: Receiver,
    workspace: WorkspaceId = None,
) -> schemas.TraceAnswer:
    return _answer(request, await asyncio.to_thread(receiver.progress, user, workflow_id, _body(body)))


@router.put("/trace/{workflow_id}/complete", summary="The run ends: Succeeded or Failed")
async def complete(
    request: Request,
    workflow_id: str,
    body: schemas.CompleteTrace,
    user: Caller,
    receiver: Receiver,
    workspace: WorkspaceId = None,
) -> schemas.TraceAnswer:
    return _answer(request, await asyncio.to_thread(receiver.complete, user, workflow_id, _body(body)))


@router.patch("/workflow/{workflow_id}", summary="Seqera scheduler's run id (accepted, not used)")
async def scheduler(
    request: Request,
    workflow_id: str,
    body: schemas.SchedulerPatch,
    user: Caller,
    receiver: Receiver,
    workspace: WorkspaceId = None,
) -> schemas.TraceAnswer:
    return _answer(request, await asyncio.to_thread(receiver.touch, user, workflow_id))


@router.get("/user-info", summary="Who the token is")
async def user_info(user: Caller) -> schemas.UserInfo:
    return schemas.UserInfo(user=schemas.TraceUser(id=zlib.crc32(user.name.encode()), userName=user.name))


def install(app: FastAPI, settings: Settings, sessions: sessionmaker[Session], kube_api: Any | None) -> None:
    """Mount the receiver on `app`, writing through `sessions` (read-write). It shares
    the read API's authenticator (`state.authenticator`) unless `tower.auth_mode`
    names a mode of its own."""
    mode = settings.api.auth_mode if settings.tower.auth_mode == "api" else settings.tower.auth_mode
    permissions: RunPermissions = ConfiguredPlacement()
    if mode == "kubernetes":
        from tracker.kube.client import load_api_client

        kube_api = kube_api if kube_api is not None else load_api_client()
        permissions = AccessReview(kube_api)
    app.state.tower_authenticator = (
        app.state.authenticator if mode == settings.api.auth_mode else make_authenticator(tower_api(settings), kube_api)
    )
    writer: RunWriter = IndexRuns()
    if settings.tower.runs == "kubernetes":
        from tracker.api.tower.kube import KubernetesRuns
        from tracker.kube.client import load_api_client

        kube_api = kube_api if kube_api is not None else load_api_client()
        runs = KubernetesRuns(kube_api, interval=timedelta(seconds=settings.tower.status_interval_seconds))
        app.router.on_startup.append(runs.start)
        app.router.on_shutdown.append(runs.close)
        writer = runs
    app.state.tower = TraceReceiver(sessions=sessions, writer=writer, permissions=permissions, settings=settings.tower)
    app.include_router(router, prefix=settings.tower.base_path)


def tower_api(settings: Settings) -> ApiSettings:
    """The read API's settings with the receiver's own authentication mode."""
    return settings.api.model_copy(update={"auth_mode": settings.tower.auth_mode})
