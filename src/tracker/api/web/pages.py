"""The pages: the runs list (`/runs`) and the Run Detail page (`/runs/{run}`).

Their data comes from the very functions behind `/api/v1/runs`, `/api/v1/runs/{run}`,
`.../outputs`, `.../jobs`, `.../tasks`, `.../notes` and `.../cost` (called with one short session, closed before
rendering), so a page and the API never disagree. Query parameters are read by
hand: a bad value is ignored with a message (runs list) or falls back to the
default (tab, sort, offset), never an error page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from tracker.api import deps, paths
from tracker.api.routes import runs as runs_api
from tracker.api.routes import tasks as tasks_api
from tracker.api.web import actions, cost_view, formats, listing, logs_view, presenters, reports_view, timeline_view
from tracker.api.web import notes as notes_tab
from tracker.api.web.guard import page_user
from tracker.api.web.rendering import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False, dependencies=[Depends(page_user)])

OUTPUTS_PER_PAGE = 100
JOBS_SHOWN = 50
TASKS_SHOWN = 100


@router.get(paths.PAGE_HOME)
def home() -> RedirectResponse:
    return RedirectResponse(paths.PAGE_RUNS, status_code=303)


@router.get(paths.PAGE_RUNS, response_class=HTMLResponse)
def runs_list(request: Request) -> HTMLResponse:
    """Runs filtered by state, owner, cluster and a name search, sorted, a page at a time."""
    wanted, notes = listing.parse_list_query(request.query_params.multi_items())
    settings = deps.get_settings(request)
    with request.app.state.sessions() as session:
        page = runs_api.list_runs(
            session,
            settings,
            state=[s for s in wanted.states if runs_api.is_run_state(s)] or None,
            owner=wanted.owner,
            cluster=wanted.cluster,
            name=wanted.search,
            sort=wanted.sort,
            limit=wanted.per_page,
            offset=wanted.offset,
        )
    pagination = listing.paginate(page.total, wanted.page, wanted.per_page, len(page.items))
    columns = [
        {
            "key": key,
            "label": label,
            "aria_sort": formats.aria_sort(wanted.sort, key) if key else None,
            "href": wanted.url(sort=formats.next_sort(wanted.sort, key, descending_first=desc), page=1)
            if key
            else None,
        }
        for key, label, desc in listing.LIST_COLUMNS
    ]
    return render(
        request,
        "runs_list.html",
        section="runs",
        runs=page.items,
        listing=wanted,
        notes=notes,
        pagination=pagination,
        columns=columns,
        states=formats.STATES,
    )


@router.get(paths.PAGE_RUN, response_class=HTMLResponse)
def run_detail(request: Request, run: str) -> HTMLResponse:
    """The Run Detail page of the run whose id or run name is `run` (`?namespace=`
    when a run name is used in several namespaces), on the tab `?tab=` asks for."""
    params = request.query_params
    namespace = params.get("namespace") or None
    directory, words = params.get("dir", ""), params.get("q") or None
    offset = int(params["offset"]) if params.get("offset", "").isdigit() else 0
    offset = min(offset, deps.MAX_OFFSET)
    settings = deps.get_settings(request)
    with request.app.state.sessions() as session:
        detail = runs_api.get_run(run, session, settings, namespace)
        tasks = tasks_api.run_tasks(detail.id, session, limit=TASKS_SHOWN)
        reports = reports_view.tab_context(request, session, detail)  # whether the run has a Reports tab
        facts = {"has_tasks": tasks.total > 0, "has_reports": bool(reports["reports"])}
        run_tabs = presenters.run_tabs(detail, **facts)
        active = presenters.choose_tab(params.get("tab"), detail, **facts)
        rendered = presenters.rendered_tabs(run_tabs, active)
        outputs = runs_api.run_outputs(detail.id, session, None, directory, words, OUTPUTS_PER_PAGE, offset)
        jobs = runs_api.run_jobs(detail.id, session, None, JOBS_SHOWN, 0)
        timeline = timeline_view.load(session, detail, params.get("zoom")) if "timeline" in rendered else None
        notes = notes_tab.tab_context(request, session, detail)
        cost = cost_view.load(session, detail, settings, has_tasks=tasks.total > 0)  # the Cost card's too
        logs = logs_view.tab_context(request, session, detail, tasks) if "logs" in rendered else {}
    psort = params.get("psort") or None
    psort = psort if psort and psort.removeprefix("-") in dict(presenters.PROCESS_COLUMNS) else None
    link = {"namespace": namespace}  # every link on the page keeps the run's namespace
    process_columns = [
        {
            "key": key,
            "label": label,
            "numeric": key != "name",
            "aria_sort": formats.aria_sort(psort, key),
            "href": formats.query(
                tab="overview", **link, psort=formats.next_sort(psort, key, descending_first=key != "name")
            )
            + "#processes",
        }
        for key, label in presenters.PROCESS_COLUMNS
    ]
    tabs = [
        {
            "key": tab.key,
            "label": tab.label,
            "href": formats.query(tab=tab.key, **link),
            "rendered": tab.key in rendered,
        }
        for tab in run_tabs
    ]
    return render(
        request,
        "run_detail.html",
        section="runs",
        run=detail,
        run_ref=run,  # the run as the URL names it: the tasks and process links use it
        link=link,
        tabs=tabs,
        active=active,
        links=presenters.workflow_links(detail.workflow),
        outputs_view=presenters.outputs_view(detail.outputs),
        processes=presenters.sort_processes(detail.processes, psort),
        process_columns=process_columns,
        params_text=presenters.params_text(detail.params),
        resume=presenters.resume_command(detail),
        disconnected_message=presenters.condition_message(detail, "Disconnected"),
        stalled_message=presenters.condition_message(detail, "Stalled"),
        outputs=outputs,
        crumbs=presenters.output_crumbs(outputs.dir),
        jobs=jobs,
        tasks=tasks,
        job_progress=presenters.job_progress,
        timeline=timeline,
        cost=cost,
        OUTPUTS_PER_PAGE=OUTPUTS_PER_PAGE,
        **notes,
        **logs,
        **reports,
        **actions.menu_context(request, detail),
    )
