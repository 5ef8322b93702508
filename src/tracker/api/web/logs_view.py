"""The Logs tab and its pages: the end of the runner's log (a lazy tab, read only when
it is the one opened: a page view costs no S3 read otherwise), links to download the whole,
the tasks whose stdout/stderr can be opened, and the page of one task's stream.
The data comes from `tracker.api.routes.logs`, as the API's; whatever cannot be read
becomes a message on the tab, never an error page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.orm import Session

from tracker.api import deps, errors, paths, schemas
from tracker.api.routes import logs
from tracker.api.routes.runs import resolve_run
from tracker.api.routes.tasks import MAX_TASK_ID
from tracker.api.web.guard import page_user
from tracker.api.web.rendering import PageRoute, render
from tracker.domain import runfiles
from tracker.domain.cost import human_size
from tracker.domain.records import RunRecord
from tracker.domain.s3url import S3Url
from tracker.domain.tasks import TaskRecord
from tracker.s3.reading import ObjectMissing, ReadFailed
from tracker.store import tasks as stored_tasks

router = APIRouter(route_class=PageRoute, include_in_schema=False, dependencies=[Depends(page_user)])
STREAMS = (("stdout", "stdout"), ("stderr", "stderr"), ("log", ".command.log"))


def _message(error: Exception) -> str:
    if isinstance(error, ObjectMissing):
        return f"No log here yet: {error}."
    if isinstance(error, runfiles.Unreadable):
        return f"This log cannot be shown: {error}."
    return f"The log cannot be read right now: {error}"


def tab_context(request: Request, session: Session, run: schemas.RunDetail, tasks: schemas.TaskPage) -> dict[str, Any]:
    """What run/logs.html needs (a lazy tab: called only when it is the one opened)."""
    settings = deps.get_settings(request)
    record = resolve_run(session, run.id, None)
    view: dict[str, Any] = {
        "download_href": paths.page_path(paths.PAGE_RUN_LOG_DOWNLOAD, run=run.id),
        "url": None,
        "tail": None,
        "problem": None,
        "shown": human_size(settings.logs.tail_bytes),
    }
    try:
        url = logs.runner_log_url(session, settings, record)
        view["url"] = str(url)
        tail = logs.read_tail(logs.reader(request), url, settings.logs.tail_bytes)
        view["tail"] = tail
        view["size"] = human_size(tail.size)
    except (runfiles.Unreadable, ReadFailed) as error:
        view["problem"] = _message(error)
    task_rows = [
        {
            "task": t,
            "links": [
                (label, paths.page_path(paths.PAGE_RUN_TASK_LOG, run=run.id, task=str(t.task_id), stream=stream))
                for stream, label in STREAMS
            ],
        }
        for t in tasks.items
        if t.work_dir
    ]
    return {"runner_log": view, "task_logs": task_rows, "task_logs_total": tasks.total}


@router.get(paths.PAGE_RUN_LOG_DOWNLOAD)
def runner_log_download(request: Request, run: str) -> StreamingResponse:
    settings = deps.get_settings(request)
    with request.app.state.sessions() as session:
        record = resolve_run(session, run, request.query_params.get("namespace") or None)
        with logs.problems():
            url = logs.runner_log_url(session, settings, record)
    with logs.problems():
        return logs.download(logs.reader(request), url)


def _task_log(
    request: Request, run: str, task: str, stream: str
) -> tuple[RunRecord, TaskRecord, S3Url | runfiles.Unreadable]:
    """The run, the task, and its stream's object (or why it cannot be read)."""
    if not task.isdigit() or int(task) > MAX_TASK_ID:
        raise errors.NotFound(f"no task {task!r}")
    if stream not in runfiles.TASK_STREAMS:
        raise errors.NotFound(f"no task log {stream!r}: one of {', '.join(runfiles.TASK_STREAMS)}")
    with request.app.state.sessions() as session:
        record = resolve_run(session, run, request.query_params.get("namespace") or None)
        found = stored_tasks.get_task(session, run_id=record.id, task_id=int(task))
        if found is None:
            raise errors.NotFound(f"run {record.run_name!r} has no task {task}")
        try:
            return record, found, logs.task_log_url(session, record, int(task), stream)
        except runfiles.Unreadable as error:
            return record, found, error


@router.get(paths.PAGE_RUN_TASK_LOG, response_class=HTMLResponse)
def task_log_page(request: Request, run: str, task: str, stream: str) -> HTMLResponse:
    """The end of one task's stdout, stderr or .command.log, with a download link."""
    settings = deps.get_settings(request)
    record, found, url = _task_log(request, run, task, stream)
    tail, problem = None, None
    if isinstance(url, Exception):
        problem = _message(url)
    else:
        try:
            tail = logs.read_tail(logs.reader(request), url, settings.logs.tail_bytes)
        except ReadFailed as error:
            problem = _message(error)
    return render(
        request,
        "task_log.html",
        section="runs",
        run=record,
        task=found,
        stream=stream,
        streams=[
            (s, label, paths.page_path(paths.PAGE_RUN_TASK_LOG, run=record.id, task=task, stream=s))
            for s, label in STREAMS
        ],
        url=None if isinstance(url, Exception) else str(url),
        tail=tail,
        size=human_size(tail.size) if tail else None,
        shown=human_size(settings.logs.tail_bytes),
        problem=problem,
        download_href=paths.page_path(paths.PAGE_RUN_TASK_LOG_DOWNLOAD, run=record.id, task=task, stream=stream),
    )


@router.get(paths.PAGE_RUN_TASK_LOG_DOWNLOAD)
def task_log_download(request: Request, run: str, task: str, stream: str) -> StreamingResponse:
    _, _, url = _task_log(request, run, task, stream)
    with logs.problems():
        if isinstance(url, Exception):
            raise url
        return logs.download(logs.reader(request), url)
