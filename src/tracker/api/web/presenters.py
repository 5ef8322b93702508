"""What the Run Detail page shows, from the read API's schemas: links to the
workflow's repository, the outputs line with its storage-cost breakdown, lifecycle
job progress, process short names and sorting, which tabs a run has and which one
opens, and the resume command. Pure functions: no I/O and no framework."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tracker.api import schemas
from tracker.api.web.formats import NONE, when
from tracker.domain import compute_cost
from tracker.domain.cost import human_size, usd
from tracker.domain.records import Phase

# -- workflow links ------------------------------------------------------------------
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%-]+")
_COMMIT = re.compile(r"[0-9a-fA-F]{4,64}")


@dataclass(frozen=True)
class WorkflowLinks:
    """What the Workflow Info card shows: each value, and its link when it has one."""

    repository: str | None
    revision: str | None
    commit: str | None
    repository_url: str | None = None
    revision_url: str | None = None
    commit_url: str | None = None


def repository_url(repository: str | None) -> str | None:
    """The web address of a repository given as an https URL with an owner and a
    name (`https://github.com/nf-core/rnaseq.git/` -> `https://github.com/nf-core/rnaseq`),
    credentials dropped; None for anything else (ssh, a bare name, another scheme)."""
    if not repository:
        return None
    try:
        parts = urlsplit(repository)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme.lower() != "https" or not _HOST.fullmatch(host) or parts.query or parts.fragment:
        return None
    path = parts.path.rstrip("/").removesuffix(".git")
    segments = path.split("/")[1:] if path.startswith("/") else []
    if len(segments) < 2 or not all(_SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments):
        return None
    return f"https://{host}{f':{port}' if port is not None else ''}/{'/'.join(segments)}"


def workflow_links(workflow: schemas.Workflow) -> WorkflowLinks:
    """Links for GitHub/GitLab-style repositories: the repository, its revision
    (`<repo>/tree/<revision>`) and its commit (`<repo>/commit/<sha>`)."""
    base = repository_url(workflow.repository)
    shown = base if base is not None and "@" in (urlsplit(workflow.repository or "").netloc) else workflow.repository
    revision, commit = workflow.revision, workflow.commit
    revision_ok = bool(revision) and all(
        _SEGMENT.fullmatch(s) and s not in (".", "..") for s in (revision or "").split("/")
    )
    return WorkflowLinks(
        repository=shown,
        revision=revision,
        commit=commit,
        repository_url=base,
        revision_url=f"{base}/tree/{revision}" if base and revision_ok else None,
        commit_url=f"{base}/commit/{commit}" if base and commit and _COMMIT.fullmatch(commit) else None,
    )


# -- outputs -------------------------------------------------------------------------
TIERS = (("frequent", "Frequent"), ("infrequent", "Infrequent"), ("archive_instant", "Archive Instant"))


@dataclass(frozen=True)
class OutputsView:
    """The Outputs line of the Cost and Runtime card."""

    deleted: bool
    size: str
    count: int
    indexed: bool
    annual_range: str | None = None
    tiers: tuple[tuple[str, str], ...] = ()
    deleted_by: str | None = None
    deleted_at: str | None = None


def outputs_view(info: schemas.OutputsInfo) -> OutputsView:
    """`Deleted` (and by whom, when) once deleted; otherwise the size, the annual
    storage cost range and the per-tier breakdown shown on hover."""
    if info.deleted:
        return OutputsView(
            deleted=True,
            size=info.size,
            count=0,
            indexed=info.indexed_at is not None,
            deleted_by=info.deleted_by,
            deleted_at=when(info.deleted_at) if info.deleted_at else None,
        )
    by_tier = info.annual_cost_by_tier
    tiers = tuple((label, usd(getattr(by_tier, key))) for key, label in TIERS)
    return OutputsView(
        deleted=False,
        size=info.size,
        count=info.count,
        indexed=info.indexed_at is not None,
        annual_range=f"{usd(info.annual_cost_low)} – {usd(info.annual_cost_high)} / year",
        tiers=tiers,
    )


def job_progress(counters: schemas.JobCounters) -> str:
    """`2 objects deleted (4.0 KiB)`, ... or `—` before any work."""
    parts = []
    for objects, size_bytes, verb in (
        (counters.objects_deleted, counters.bytes_deleted, "deleted"),
        (counters.objects_copied, counters.bytes_copied, "copied"),
    ):
        if objects or size_bytes:
            parts.append(f"{objects} object{'s' * (objects != 1)} {verb} ({human_size(size_bytes)})")
    if counters.objects_indexed:
        parts.append(f"{counters.objects_indexed} object{'s' * (counters.objects_indexed != 1)} indexed")
    if counters.rows_rewritten:
        parts.append(f"{counters.rows_rewritten} row{'s' * (counters.rows_rewritten != 1)} rewritten")
    return "; ".join(parts) or NONE


# -- processes -----------------------------------------------------------------------
PROCESS_COLUMNS = (
    ("name", "Process"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("aborted", "Aborted"),
    ("running", "Running"),
    ("cached", "Cached"),
    ("retried", "Retried"),
    ("submitted", "Submitted"),
)


def process_short_name(name: str) -> str:
    """The last two colon-separated segments: `NFCORE_RNASEQ:RNASEQ:FASTQC` -> `RNASEQ:FASTQC`."""
    return ":".join(name.split(":")[-2:])


def sort_processes(processes: Sequence[schemas.Process], sort: str | None) -> list[schemas.Process]:
    """The process table ordered by a column (`-` first for descending; names by their
    short form, ignoring case); the runner's order for no or an unknown column. Ties
    keep the runner's order."""
    key = (sort or "").removeprefix("-")
    if key not in dict(PROCESS_COLUMNS):
        return list(processes)
    descending = (sort or "").startswith("-")
    if key == "name":
        return sorted(processes, key=lambda p: process_short_name(p.name).casefold(), reverse=descending)
    return sorted(processes, key=lambda p: int(getattr(p, key)), reverse=descending)  # stable both ways


# -- tabs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Tab:
    """A tab of the Run Detail page. A lazy tab's panel is rendered only when it is the
    page's active tab (its data is costly: thousands of attempts, S3 reads); from
    another tab, choosing it loads `?tab=<key>`."""

    key: str
    label: str
    lazy: bool = False


OVERVIEW, ERROR, CONFIG, NOTES, OUTPUTS, JOBS, HISTORY = (
    Tab("overview", "Overview"),
    Tab("error", "Error & Resume"),
    Tab("config", "Config & Params"),
    Tab("notes", "Notes"),
    Tab("outputs", "Outputs"),
    Tab("jobs", "Lifecycle jobs"),
    Tab("history", "Run History"),
)
TIMELINE = Tab("timeline", "Task Timeline", lazy=True)
COST = Tab("cost", "Cost & Performance")
LOGS = Tab("logs", "Logs", lazy=True)  # S3 reads
REPORTS = Tab("reports", "Reports", lazy=True)  # frames and images proxied from S3


def failed(run: schemas.RunDetail) -> bool:
    return run.phase == Phase.FAILED.value or run.state == Phase.FAILED.value


def cost_reason(run: schemas.RunDetail, *, has_tasks: bool) -> str | None:
    """None when the run has a compute cost estimate (succeeded, not resumed, with
    task records); else why not."""
    return compute_cost.why_not_estimated(
        succeeded=run.phase == Phase.SUCCEEDED.value,
        resumed=any(not e.current for e in run.executions),
        has_tasks=has_tasks,
    )


def run_tabs(run: schemas.RunDetail, *, has_tasks: bool = False, has_reports: bool = False) -> list[Tab]:
    """The seed's tabs, in its order: Overview, Error & Resume (failed runs), Task
    Timeline, Cost & Performance (succeeded, non-resumed runs with task attempts),
    Config & Params, Notes, Logs, Reports (when tracker.yml reports resolve), then
    Outputs and Lifecycle jobs, and Run History when the run was executed more than
    once (resumed)."""
    tabs = [
        OVERVIEW,
        *([ERROR] if failed(run) else []),
        TIMELINE,
        *([COST] if cost_reason(run, has_tasks=has_tasks) is None else []),
        CONFIG,
        NOTES,
        LOGS,
        *([REPORTS] if has_reports else []),
        OUTPUTS,
        JOBS,
    ]
    return tabs + ([HISTORY] if len(run.executions) > 1 else [])


def choose_tab(
    requested: str | None, run: schemas.RunDetail, *, has_tasks: bool = False, has_reports: bool = False
) -> str:
    """The requested tab when the run has it; else Error & Resume for a failed run,
    Overview for any other."""
    keys = [tab.key for tab in run_tabs(run, has_tasks=has_tasks, has_reports=has_reports)]
    if requested in keys:
        return requested
    return ERROR.key if failed(run) else OVERVIEW.key


def rendered_tabs(tabs: Sequence[Tab], active: str) -> frozenset[str]:
    """The tabs whose panels the page renders: every eager tab, and the active one."""
    return frozenset(tab.key for tab in tabs if not tab.lazy or tab.key == active)


def resume_command(run: schemas.RunDetail) -> str | None:
    """`-resume <session_id> -name <run_name>` (shell-quoted when needed), or None
    without a session id."""
    if not run.session_id:
        return None
    return f"-resume {shlex.quote(run.session_id)} -name {shlex.quote(run.run_name)}"


def params_text(params: dict[str, Any]) -> str:
    return json.dumps(params, indent=2, ensure_ascii=False, default=str)


def condition_message(run: schemas.RunDetail, type_: str) -> str | None:
    found = next((c for c in run.conditions if c.type == type_), None)
    return found.message if found is not None else None


def output_crumbs(directory: str) -> list[tuple[str, str]]:
    """`qc/fastqc/` -> `[("qc/", "qc/"), ("fastqc/", "qc/fastqc/")]`: each level and its path."""
    crumbs, path = [], ""
    for part in directory.split("/"):
        if part:
            path += part + "/"
            crumbs.append((part + "/", path))
    return crumbs
