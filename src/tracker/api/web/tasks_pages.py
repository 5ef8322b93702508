"""The tasks view (`/runs/{run}/tasks`) and the Process Detail page
(`/runs/{run}/processes/{process}`) of a run.

Their rows come from `run_tasks`, the function behind `GET /api/v1/runs/{run}/tasks`,
and the process's numbers from SQL aggregates (`tracker.store.taskstats`), in one
short session closed before rendering. A bad query value falls back to its default
with a message; an unknown process is the 404 error page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from tracker.api import deps, paths
from tracker.api.routes import runs as runs_api
from tracker.api.routes import tasks as tasks_api
from tracker.api.web import listing, process_view, tasks_view
from tracker.api.web.guard import page_user
from tracker.api.web.rendering import PageRoute, error_page, render
from tracker.domain.tasks import TaskStatus
from tracker.store import taskstats
from tracker.store.tasks import MAX_SEARCH

router = APIRouter(route_class=PageRoute, include_in_schema=False, dependencies=[Depends(page_user)])

ATTEMPTS_SHOWN = 100  # on Process Detail; the tasks view pages through the rest


@router.get(paths.PAGE_RUN_TASKS, response_class=HTMLResponse)
def run_tasks_page(request: Request, run: str) -> HTMLResponse:
    """The run's task attempts: filtered by process and status, searched by name,
    tag or hash, sorted by a column, a page at a time."""
    params = request.query_params
    settings = deps.get_settings(request)
    with request.app.state.sessions() as session:
        detail = runs_api.get_run(run, session, settings, params.get("namespace") or None)
        processes = taskstats.process_names(session, run_id=detail.id)
        wanted, notes = tasks_view.parse_tasks_query(
            params.multi_items(), path=paths.page_path(paths.PAGE_RUN_TASKS, run=run), processes=processes
        )
        page = tasks_api.run_tasks(
            detail.id,
            session,
            process=wanted.process,
            status=[TaskStatus(s) for s in wanted.statuses] or None,
            q=wanted.search,
            sort=wanted.sort,
            limit=wanted.per_page,
            offset=min(wanted.offset, deps.MAX_OFFSET),
        )
    return render(
        request,
        "tasks.html",
        section="runs",
        run=detail,
        run_ref=run,
        link={"namespace": wanted.namespace},
        listing=wanted,
        notes=notes,
        tasks=page,
        pagination=listing.paginate(page.total, wanted.page, wanted.per_page, len(page.items)),
        columns=tasks_view.headings(wanted),
        process_choices=tasks_view.process_choices(processes),
        statuses=tasks_view.STATUSES,
        cell=tasks_view.cell,
        MAX_SEARCH=MAX_SEARCH,
    )


@router.get(paths.PAGE_RUN_PROCESS, response_class=HTMLResponse)
def process_detail(request: Request, run: str, process: str) -> HTMLResponse:
    """One process of the run: its numbers and its first attempts."""
    params = request.query_params
    namespace = params.get("namespace") or None
    settings = deps.get_settings(request)
    with request.app.state.sessions() as session:
        detail = runs_api.get_run(run, session, settings, namespace)
        stats = None if deps.has_nul(process) else taskstats.process_stats(session, run_id=detail.id, process=process)
        counts = next((p for p in detail.processes if p.name == process), None)
        if stats is None and counts is None:
            return error_page(request, 404, "Process not found", f"run {detail.run_name!r} has no process {process!r}")
        attempts = tasks_api.run_tasks(detail.id, session, process=process, limit=ATTEMPTS_SHOWN)
    wanted = tasks_view.TasksQuery(
        path=paths.page_path(paths.PAGE_RUN_TASKS, run=run), namespace=namespace, process=process
    )
    columns = [c for c in tasks_view.TASK_COLUMNS if c.key != "process"]
    return render(
        request,
        "process.html",
        section="runs",
        run=detail,
        run_ref=run,
        link={"namespace": namespace},
        process=process,
        counts=counts,
        cards=process_view.cards(stats) if stats is not None else [],
        tasks=attempts,
        all_tasks_url=wanted.url(),
        columns=[
            {"key": c.key, "label": c.label, "numeric": c.numeric, "aria_sort": None, "href": None} for c in columns
        ],
        cell=tasks_view.cell,
    )
