"""`/runs/{run}/log` and `/runs/{run}/tasks/{task}/log/{stream}`: the runner's log and a
task's stdout/stderr, read from S3: the last part (bounded), or the whole streamed as
a download. Only objects under the run's work and output dirs are read
(`tracker.domain.runfiles`). A missing object is a 404, S3 down a 503, each with a
message saying so. The Logs tab calls the same functions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tracker.api import errors, paths
from tracker.api.deps import Namespace, SessionDep, SettingsDep
from tracker.api.routes.runs import RunRef, resolve_run
from tracker.api.routes.tasks import MAX_TASK_ID
from tracker.domain import runfiles
from tracker.domain.records import RunRecord
from tracker.domain.s3url import S3Url
from tracker.s3.reading import ObjectMissing, Reader, ReadFailed
from tracker.settings import Settings
from tracker.store import runfiles as stored
from tracker.store import tasks

router = APIRouter(prefix=paths.API, tags=["logs"])

Stream = Literal["stdout", "stderr", "log"]
TaskId = Annotated[int, Path(alias="task", ge=0, le=MAX_TASK_ID, description="the runner's task id")]
# Served as plain text whatever S3 says, never sniffed, never run as a page.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "no-store",
}


class LogTail(BaseModel):
    """The last part of a log object."""

    url: str
    size: int
    start: int
    truncated: bool
    text: str


def reader(request: Request) -> Reader:
    """The app's S3 reader, made on first use."""
    found: Reader | None = getattr(request.app.state, "s3_reader", None)
    if found is None:
        settings: Settings = request.app.state.settings
        found = request.app.state.s3_reader = Reader(settings.s3, settings.s3_reads)
    return found


def runner_log_url(session: Session, settings: Settings, run: RunRecord) -> S3Url:
    """The runner's log object; `Unreadable` when there is none the API may read."""
    location = runfiles.runner_log_location(
        reported=stored.reported_log_file(session, run_id=run.id),
        work_dir=run.work_dir,
        path=settings.logs.runner_log_path,
        run_name=run.run_name,
        session_id=run.session_id,
        run_id=run.id,
    )
    return runfiles.confine(location, runfiles.run_prefixes(run.work_dir, run.output_dir))


def task_log_url(session: Session, run: RunRecord, task_id: int, stream: str) -> S3Url:
    """A task attempt's stream in its work dir (the latest attempt with that id)."""
    found = tasks.get_task(session, run_id=run.id, task_id=task_id)
    if found is None:
        raise errors.NotFound(f"run {run.run_name!r} has no task {task_id}")
    location = runfiles.task_log_location(found.work_dir, stream)
    return runfiles.confine(location, runfiles.run_prefixes(run.work_dir, run.output_dir))


def read_tail(read: Reader, url: S3Url, wanted: int) -> LogTail:
    tail = read.tail(url, wanted)
    return LogTail(
        url=str(url),
        size=tail.span.size,
        start=tail.span.start,
        truncated=tail.span.truncated,
        text=runfiles.tail_text(tail.data, tail.span),
    )


def download(read: Reader, url: S3Url) -> StreamingResponse:
    """The whole object, streamed in chunks, as a plain-text attachment."""
    opened = read.open(url)
    name = url.key.rsplit("/", 1)[-1].replace('"', "") or "log.txt"
    headers = DOWNLOAD_HEADERS | {
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Length": str(opened.size),
    }
    return StreamingResponse(opened.chunks(), media_type="text/plain; charset=utf-8", headers=headers)


@contextmanager
def problems() -> Iterator[None]:
    """What cannot be read as a 404 (no such log, not the run's) or a 503 (S3 down)."""
    try:
        yield
    except (runfiles.Unreadable, ObjectMissing) as error:
        raise errors.NotFound(str(error)) from error
    except ReadFailed as error:
        raise errors.Unavailable(str(error)) from error


def tail_bytes(settings: Settings, wanted: int | None) -> int:
    """How much of the end to read: `wanted`, bounded by `logs.max_tail_bytes`."""
    limit = settings.logs.max_tail_bytes
    if wanted is not None and wanted > limit:
        raise errors.BadParameter(f"bytes: at most {limit} (logs.max_tail_bytes)")
    return wanted or settings.logs.tail_bytes


TailBytes = Annotated[
    int | None, Query(alias="bytes", ge=1, description="how much of the end (default logs.tail_bytes)")
]


@router.get(paths.RUN_LOG, response_model=LogTail, responses=errors.responses(404, 409, 422, 503))
def run_log(
    run: RunRef,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    namespace: Namespace = None,
    wanted: TailBytes = None,
) -> LogTail:
    """The end of the runner's log (Nextflow's reported `logFile`, else
    `logs.runner_log_path` under the work dir)."""
    record = resolve_run(session, run, namespace)
    with problems():
        return read_tail(reader(request), runner_log_url(session, settings, record), tail_bytes(settings, wanted))


@router.get(
    paths.RUN_LOG_DOWNLOAD,
    response_class=StreamingResponse,
    responses=errors.responses(404, 409, 422, 503) | {200: {"content": {"text/plain": {}}}},
)
def run_log_download(
    run: RunRef, session: SessionDep, settings: SettingsDep, request: Request, namespace: Namespace = None
) -> StreamingResponse:
    """The whole runner's log, streamed, as an attachment."""
    record = resolve_run(session, run, namespace)
    with problems():
        return download(reader(request), runner_log_url(session, settings, record))


@router.get(paths.RUN_TASK_LOG, response_model=LogTail, responses=errors.responses(404, 409, 422, 503))
def task_log(
    run: RunRef,
    task_id: TaskId,
    stream: Stream,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    namespace: Namespace = None,
    wanted: TailBytes = None,
) -> LogTail:
    """The end of a task's `.command.out` (stdout), `.command.err` (stderr) or `.command.log`."""
    record = resolve_run(session, run, namespace)
    with problems():
        return read_tail(reader(request), task_log_url(session, record, task_id, stream), tail_bytes(settings, wanted))


@router.get(
    paths.RUN_TASK_LOG_DOWNLOAD,
    response_class=StreamingResponse,
    responses=errors.responses(404, 409, 422, 503) | {200: {"content": {"text/plain": {}}}},
)
def task_log_download(
    run: RunRef, task_id: TaskId, stream: Stream, session: SessionDep, request: Request, namespace: Namespace = None
) -> StreamingResponse:
    """A task's whole stream, streamed, as an attachment."""
    record = resolve_run(session, run, namespace)
    with problems():
        return download(reader(request), task_log_url(session, record, task_id, stream))
