"""Route paths of the read API, defined once: the routers, the client and the tests
all build URLs from these templates."""

from __future__ import annotations

from urllib.parse import quote

API = "/api/v1"  # every resource route lives under it

RUNS = "/runs"
RUN = "/runs/{run}"
RUN_PROCESSES = "/runs/{run}/processes"
RUN_OUTPUTS = "/runs/{run}/outputs"
RUN_JOBS = "/runs/{run}/jobs"
RUN_TASKS = "/runs/{run}/tasks"
RUN_TASK = "/runs/{run}/tasks/{task}"
RUN_NOTES = "/runs/{run}/notes"
RUN_NOTE = "/runs/{run}/notes/{note_id}"
RUN_COST = "/runs/{run}/cost"
RUN_LOG = "/runs/{run}/log"
RUN_LOG_DOWNLOAD = "/runs/{run}/log/download"
RUN_TASK_LOG = "/runs/{run}/tasks/{task}/log/{stream}"
RUN_TASK_LOG_DOWNLOAD = "/runs/{run}/tasks/{task}/log/{stream}/download"
RUN_REPORTS = "/runs/{run}/reports"
RUN_REPORT = "/runs/{run}/reports/{number}"
OUTPUTS_LOOKUP = "/outputs/lookup"
OUTPUTS_SEARCH = "/outputs/search"
JOBS = "/jobs"
JOB = "/jobs/{job_id}"

OPENAPI = API + "/openapi.json"
SWAGGER_UI = API + "/swagger-ui"
SWAGGER_ASSETS = SWAGGER_UI + "/assets"  # swagger-ui's dist files, served from a package

# Web pages (HTML, outside /api/v1), served by `tracker.api.web`
PAGE_HOME = "/"
PAGE_RUNS = "/runs"
PAGE_RUN = "/runs/{run}"
PAGE_RUN_NOTES = "/runs/{run}/notes"  # the Notes tab's form posts here
PAGE_RUN_DELETE_OUTPUTS = "/runs/{run}/delete-outputs"  # the Actions menu's confirmation page and its form
PAGE_RUN_DELETE_JOB = "/runs/{run}/delete-outputs/{job}"  # the requested job's progress
PAGE_RUN_NOTE = "/runs/{run}/notes/{note_id}"  # a note's edit form posts here
PAGE_RUN_TASKS = "/runs/{run}/tasks"  # the tasks view
PAGE_RUN_PROCESS = "/runs/{run}/processes/{process}"  # Process Detail (the name percent-encoded)
PAGE_RUN_LOG_DOWNLOAD = "/runs/{run}/log/download"  # the Logs tab's links (cookie auth)
PAGE_RUN_TASK_LOG = "/runs/{run}/tasks/{task}/log/{stream}"
PAGE_RUN_TASK_LOG_DOWNLOAD = "/runs/{run}/tasks/{task}/log/{stream}/download"
PAGE_RUN_REPORT = "/runs/{run}/reports/{number}"  # the Reports tab's frames, images, downloads
PAGE_LOGIN = "/login"
PAGE_LOGOUT = "/logout"
STATIC = "/static"

HEALTHZ = "/healthz"
READYZ = "/readyz"
METRICS = "/metrics"
UNAUTHENTICATED = (HEALTHZ, READYZ, METRICS)


def api_path(template: str, **params: str) -> str:
    """The URL path of `template` under `/api/v1`, path parameters percent-encoded:
    `api_path(RUN, run="foo run")` -> `/api/v1/runs/foo%20run`."""
    return API + template.format(**{name: quote(value, safe="") for name, value in params.items()})


def page_path(template: str, **params: str) -> str:
    """The URL path of a web page, path parameters percent-encoded:
    `page_path(PAGE_RUN, run="foo run")` -> `/runs/foo%20run`."""
    return template.format(**{name: quote(value, safe="") for name, value in params.items()})
