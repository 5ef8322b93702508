"""`/jobs`: lifecycle job history (kept after the custom resource is gone)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, Path, Query

from tracker.api import errors, paths, schemas, views
from tracker.api.deps import Limit, Namespace, Offset, SessionDep, has_nul
from tracker.domain.records import JobPhase, Operation
from tracker.store import jobs, runs

router = APIRouter(prefix=paths.API, tags=["jobs"])

if TYPE_CHECKING:  # a value FastAPI has checked against the Literal below
    PhaseFilter = str
    OperationFilter = str
else:  # the values from the enums, for FastAPI's validation and the OpenAPI schema
    PhaseFilter = Literal[tuple(p.value for p in JobPhase)]
    OperationFilter = Literal[tuple(o.value for o in Operation)]


@router.get(paths.JOBS, response_model=schemas.JobPage, responses=errors.responses(409, 422))
def list_jobs(
    session: SessionDep,
    run: Annotated[str | None, Query(description="the run id or run name")] = None,
    phase: PhaseFilter | None = None,
    operation: OperationFilter | None = None,
    namespace: Namespace = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.JobPage:
    """Lifecycle jobs matching every filter, newest first."""
    if has_nul(run, namespace):
        return schemas.JobPage(items=[], total=0, limit=limit, offset=offset)
    run_id = None
    if run is not None:
        found = runs.get_run(session, ref=run, namespace=namespace or None)
        run_id = found.id if found is not None else run  # a job may name a run the index never saw
    page, total = jobs.list_jobs(
        session, run_id=run_id, phase=phase, operation=operation, namespace=namespace, limit=limit, offset=offset
    )
    return schemas.JobPage(items=[views.job(j) for j in page], total=total, limit=limit, offset=offset)


@router.get(paths.JOB, response_model=schemas.Job, responses=errors.responses(404, 422))
def get_job(job_id: Annotated[str, Path(description="the job id (status.jobId)")], session: SessionDep) -> schemas.Job:
    """One lifecycle job with its live counters."""
    record = None if has_nul(job_id) else jobs.get_job(session, job_id=job_id)
    if record is None:
        raise errors.NotFound(f"no lifecycle job {job_id!r}")
    return views.job(record)
