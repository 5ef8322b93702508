"""`/runs/{run}/tasks`: a run's task attempts from the index (filter by process and
status, search by name, tag or hash, sort, paginate) and one attempt by task id."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Path, Query

from tracker.api import errors, paths, schemas
from tracker.api.deps import Limit, Namespace, Offset, SessionDep, has_nul
from tracker.api.routes.runs import RunRef, resolve_run
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.store import tasks

router = APIRouter(prefix=paths.API, tags=["tasks"])
if TYPE_CHECKING:  # a value FastAPI has checked against the Literal below
    TaskSort = str
else:  # every sort key, ascending and descending, for FastAPI's validation and the OpenAPI schema
    TaskSort = Literal[tuple(key for name in tasks.SORT_KEYS for key in (name, "-" + name))]
MAX_TASK_ID = 2**63 - 1


def task(record: TaskRecord) -> schemas.Task:
    return schemas.Task(**asdict(record))


@router.get(paths.RUN_TASKS, response_model=schemas.TaskPage, responses=errors.responses(404, 409, 422))
def run_tasks(
    run: RunRef,
    session: SessionDep,
    namespace: Namespace = None,
    process: Annotated[str | None, Query(description="the process name (exact)")] = None,
    status: Annotated[list[TaskStatus] | None, Query(description="task status (repeatable: any of)")] = None,
    execution: Annotated[str | None, Query(description="one execution of a resumed run")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=tasks.MAX_SEARCH,
            description="a substring of the task's name, tag or hash: literal (`%` and `_` are plain "
            f"characters), ASCII case ignored, surrounding spaces dropped; at most {tasks.MAX_SEARCH} characters",
        ),
    ] = None,
    sort: Annotated[TaskSort, Query(description="a column, `-` first for descending")] = "task_id",
    limit: Limit = 100,
    offset: Offset = 0,
) -> schemas.TaskPage:
    """The run's task attempts matching every filter, one page, and how many match."""
    record = resolve_run(session, run, namespace)
    if has_nul(process, execution, q):
        return schemas.TaskPage(run_id=record.id, items=[], total=0, limit=limit, offset=offset)
    with errors.bad_parameters():
        found, total = tasks.list_tasks(
            session,
            run_id=record.id,
            process=process,
            status=[s.value for s in status] if status else None,
            execution=execution,
            search=q,
            sort=sort,
            limit=limit,
            offset=offset,
        )
    return schemas.TaskPage(run_id=record.id, items=[task(t) for t in found], total=total, limit=limit, offset=offset)


@router.get(paths.RUN_TASK, response_model=schemas.Task, responses=errors.responses(404, 409, 422))
def run_task(
    run: RunRef,
    session: SessionDep,
    task_id: Annotated[int, Path(alias="task", ge=0, le=MAX_TASK_ID, description="the runner's task id")],
    namespace: Namespace = None,
    execution: Annotated[str | None, Query(description="default: the latest execution with this task id")] = None,
) -> schemas.Task:
    """One attempt: of `execution`, or of the latest execution that reported it."""
    record = resolve_run(session, run, namespace)
    found = (
        None if has_nul(execution) else tasks.get_task(session, run_id=record.id, task_id=task_id, execution=execution)
    )
    if found is None:
        raise errors.NotFound(f"run {run!r} has no task {task_id}")
    return task(found)
