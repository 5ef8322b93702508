"""`/runs`: filtered listing, the Run Detail data, a run's processes, outputs
(directory browse or search) and lifecycle jobs. A run is named by its id or its
run name; a run name used in several namespaces needs `namespace` (else 409)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal, TypedDict, TypeGuard, get_args

from fastapi import APIRouter, Path, Query
from pydantic import StringConstraints
from sqlalchemy.orm import Session

from tracker.api import errors, paths, schemas, views
from tracker.api.deps import (
    COUNT_AHEAD,
    Limit,
    Namespace,
    Offset,
    Rfc3339,
    SessionDep,
    SettingsDep,
    has_nul,
    utc_bound,
)
from tracker.domain.records import RunRecord
from tracker.store import jobs, lookup, runs
from tracker.store.errors import RunNotFound

router = APIRouter(prefix=paths.API, tags=["runs"])

RunState = Literal["Submitted", "Running", "Succeeded", "Failed", "Aborted", "Disconnected", "Stalled"]
if TYPE_CHECKING:  # a value FastAPI has checked against the Literal below
    RunSort = str
else:  # every sort key, ascending and descending, for FastAPI's validation and the OpenAPI schema
    RunSort = Literal[tuple(key for name in runs.SORT_KEYS for key in (name, "-" + name))]


def is_run_state(value: str) -> TypeGuard[RunState]:
    return value in get_args(RunState)


class _OutputsPage(TypedDict):
    """The fields every answer of `run_outputs` carries."""

    run_id: str
    run_name: str
    output_dir: str | None
    dir: str
    q: str | None
    limit: int
    offset: int


# A Kubernetes label selector term `key=value` (qualified key, value of at most 63 characters).
LABEL = (
    r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
    r"=(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"
)
Label = Annotated[str, StringConstraints(pattern=LABEL)]
RunRef = Annotated[str, Path(description="the run id or the run name")]


def resolve_run(session: Session, ref: str, namespace: str | None) -> RunRecord:
    """The run named `ref` (id or run name); RunNotFound or AmbiguousRun otherwise."""
    if has_nul(ref, namespace):
        raise RunNotFound(ref)
    run = runs.get_run(session, ref=ref, namespace=namespace or None)
    if run is None and namespace:
        raise errors.NotFound(f"no run {ref!r} in namespace {namespace!r}")
    if run is None:
        raise RunNotFound(ref)
    return run


@router.get(paths.RUNS, response_model=schemas.RunPage, responses=errors.responses(422))
def list_runs(
    session: SessionDep,
    settings: SettingsDep,
    state: Annotated[list[RunState] | None, Query(description="display state (repeatable: any of)")] = None,
    owner: str | None = None,
    cluster: str | None = None,
    label: Annotated[list[Label] | None, Query(description="`key=value` (repeatable: all of)")] = None,
    name: Annotated[str | None, Query(description="substring of the run name or resource name")] = None,
    created_after: Annotated[datetime | None, Rfc3339, Query(description="created at or after (RFC 3339)")] = None,
    created_before: Annotated[datetime | None, Rfc3339, Query(description="created before (RFC 3339)")] = None,
    namespace: Namespace = None,
    archived: Annotated[
        bool | None, Query(description="only archived runs (true), only the others (false); both when absent")
    ] = None,
    sort: Annotated[RunSort, Query(description="a column, `-` first for descending")] = "-created_at",
    limit: Limit = 50,
    offset: Offset = 0,
) -> schemas.RunPage:
    """Runs matching every filter, one page of them, and how many match in total."""
    labels = dict(term.split("=", 1) for term in label or [])
    if has_nul(owner, cluster, name, namespace):
        return schemas.RunPage(items=[], total=0, limit=limit, offset=offset)
    with errors.bad_parameters():
        found, total = runs.list_runs(
            session,
            state=state,
            owner=owner,
            cluster=cluster,
            label=labels or None,
            name_contains=name or None,
            created_after=utc_bound(created_after),
            created_before=utc_bound(created_before),
            namespace=namespace,
            archived=archived,
            sort=sort,
            limit=limit,
            offset=offset,
        )
    summaries = runs.outputs_summaries(session, run_ids=[r.id for r in found])
    now = views.utcnow()
    items = [views.run_summary(r, summaries[r.id], settings.prices, now) for r in found]
    return schemas.RunPage(items=items, total=total, limit=limit, offset=offset)


@router.get(paths.RUN, response_model=schemas.RunDetail, responses=errors.responses(404, 409, 422))
def get_run(run: RunRef, session: SessionDep, settings: SettingsDep, namespace: Namespace = None) -> schemas.RunDetail:
    """Everything the Run Detail page shows: spec, state and conditions, timing,
    cost, processes, outputs summary with storage cost, and the resume history."""
    record = resolve_run(session, run, namespace)
    summary = runs.outputs_summary(session, run_id=record.id)
    executions = runs.run_executions(session, run_id=record.id)
    return views.run_detail(record, summary, executions, settings.prices, views.utcnow())


@router.get(paths.RUN_PROCESSES, response_model=schemas.ProcessList, responses=errors.responses(404, 409, 422))
def run_processes(run: RunRef, session: SessionDep, namespace: Namespace = None) -> schemas.ProcessList:
    """The run's process table (task counts per process), in the runner's order."""
    record = resolve_run(session, run, namespace)
    return schemas.ProcessList(run_id=record.id, items=views.processes(record))


@router.get(paths.RUN_OUTPUTS, response_model=schemas.RunOutputs, responses=errors.responses(404, 409, 422))
def run_outputs(
    run: RunRef,
    session: SessionDep,
    namespace: Namespace = None,
    dir: Annotated[str, Query(description="a directory relative to the run's outputDir")] = "",
    q: Annotated[str | None, Query(description="words that must all occur in the URL (any case)")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> schemas.RunOutputs:
    """One directory level (`dir`): its subdirectories with counts and bytes, then a
    page of its files. With `q`: the run's outputs under `dir` containing every word."""
    record = resolve_run(session, run, namespace)
    base = record.output_dir or ""
    directory = dir[len(base) :] if base and dir.startswith(base) else dir
    directory += "/" if directory and not directory.endswith("/") else ""
    page = _OutputsPage(
        run_id=record.id,
        run_name=record.run_name,
        output_dir=record.output_dir,
        dir=directory,
        q=q,
        limit=limit,
        offset=offset,
    )
    words = (q or "").split()
    if has_nul(directory) or not base:
        return schemas.RunOutputs(**page, total=0 if words else None)
    if words:
        scope = [base + directory] if directory else []
        cap = offset + limit + COUNT_AHEAD
        with errors.bad_parameters():
            matches, total = lookup.search_outputs(
                session, words=words + scope, run_id=record.id, limit=limit, offset=offset, count_limit=cap
            )
        files = [views.output_file(m.object, m.deleted_at, base) for m in matches]
        return schemas.RunOutputs(
            **page, files=files, total=total, total_is_lower_bound=total >= cap, more=offset + len(files) < total
        )
    listing = lookup.browse_outputs(session, run_id=record.id, directory=directory, limit=offset + limit + 1)
    return schemas.RunOutputs(
        **page,
        directories=[views.output_directory(d, directory) for d in listing.directories],
        files=views.output_files(listing.files[offset : offset + limit], base),
        more=len(listing.files) > offset + limit,
    )


@router.get(paths.RUN_JOBS, response_model=schemas.JobPage, responses=errors.responses(404, 409, 422))
def run_jobs(
    run: RunRef, session: SessionDep, namespace: Namespace = None, limit: Limit = 50, offset: Offset = 0
) -> schemas.JobPage:
    """The run's lifecycle jobs, newest first."""
    record = resolve_run(session, run, namespace)
    found, total = jobs.list_jobs(session, run_id=record.id, limit=limit, offset=offset)
    return schemas.JobPage(items=[views.job(j) for j in found], total=total, limit=limit, offset=offset)
