"""`tracker describe run|job NAME`: one object in full, as `kubectl describe` would
show it: info cards, conditions, the process table, the outputs summary with its
annual cost range, the run's lifecycle jobs and its recent Events. An archived run
(its resource removed) is described from the read API, its jobs from their history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import click
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from tracker.cli import render
from tracker.cli.archived import ARCHIVED_AT, archived_jobs, is_archived
from tracker.cli.context import CliContext, api_error, pass_context
from tracker.cli.errors import CliError
from tracker.cli.get import Getter, complete_names
from tracker.cli.lifecycle import COUNTERS, job_record
from tracker.cli.wait import format_duration
from tracker.domain.conditions import parse_time, rfc3339
from tracker.domain.cost import human_size, usd
from tracker.kube.resources import JOBS, RUNS

Body = dict[str, Any]
PROCESS_COUNTS = ("succeeded", "failed", "aborted", "running", "cached", "retried", "submitted", "pending")
RECENT_EVENTS = 10


def fields(pairs: Iterable[tuple[str, Any]], indent: int = 0) -> list[str]:
    """`Key:  value` lines, values aligned; None values are left out."""
    shown = [(k, v) for k, v in pairs if v is not None and v != ""]
    if not shown:
        return []
    width = max(len(k) for k, _ in shown) + 3
    return [" " * indent + f"{k + ':':<{width}}{v}" for k, v in shown]


def section(title: str, lines: Sequence[str], empty: str = "<none>") -> list[str]:
    return [f"{title}:", *lines] if lines else [f"{title}:  {empty}"]


def described_table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: int = 2) -> list[str]:
    """A kubectl-describe table: Title-case headers underlined with dashes."""
    if not rows:
        return []
    text = render.table([list(headers), ["-" * len(h) for h in headers], *rows])
    return [" " * indent + line for line in text.splitlines()]


def when(value: str | None, now: datetime) -> str | None:
    moment = parse_time(value)
    return f"{rfc3339(moment)} ({render.age(moment, now)} ago)" if moment else None


def run_lines(run: Body, jobs: Sequence[Body], events: Sequence[Body] | None, now: datetime) -> list[str]:
    metadata, spec, status = run["metadata"], run.get("spec") or {}, run.get("status") or {}
    workflow, outputs = spec.get("workflow") or {}, status.get("outputs") or {}
    labels = ", ".join(f"{k}={v}" for k, v in sorted((metadata.get("labels") or {}).items())) or "<none>"
    lines = fields(
        [
            ("Name", metadata["name"]),
            ("Namespace", metadata["namespace"]),
            ("Run", spec.get("runName")),
            ("Id", status.get("id") or "<pending>"),
            ("Owner", spec.get("owner")),
            ("Cluster", spec.get("cluster")),
            ("Engine", spec.get("engine")),
            ("Labels", labels),
            ("State", status.get("state") or "<unknown>"),
            ("Created", when(metadata.get("creationTimestamp"), now)),
            ("Archived", when((metadata.get("annotations") or {}).get(ARCHIVED_AT), now)),
        ]
    )
    lines += section(
        "Workflow",
        fields(
            [
                ("Repository", workflow.get("repository")),
                ("Revision", workflow.get("revision")),
                ("Commit", workflow.get("commit")),
                ("Work Dir", spec.get("workDir")),
                ("Output Dir", spec.get("outputDir")),
                ("Session Id", spec.get("sessionId")),
                ("Command Line", spec.get("commandLine")),
            ],
            indent=2,
        ),
    )
    started, completed = parse_time(status.get("startedAt")), parse_time(status.get("completedAt"))
    duration = format_duration(((completed or now) - started).total_seconds()) if started else None
    cost = status.get("cost")
    lines += section(
        "Runtime",
        fields(
            [
                ("Phase", status.get("phase")),
                ("Started", when(status.get("startedAt"), now)),
                ("Completed", when(status.get("completedAt"), now)),
                ("Duration", f"{duration}{'' if completed else ' (so far)'}" if duration else None),
                ("Last Heartbeat", when(status.get("lastHeartbeatTime"), now)),
                ("Peak Concurrency", status.get("peakConcurrency")),
                ("Cost", usd(cost) if cost is not None else None),
                ("Error", status.get("errorMessage")),
            ],
            indent=2,
        ),
    )
    lines += section(
        "Conditions",
        described_table(
            ("Type", "Status", "Reason", "Age", "Message"),
            [
                [
                    c.get("type", ""),
                    c.get("status", ""),
                    c.get("reason", ""),
                    render.age(c.get("lastTransitionTime"), now),
                    c.get("message", ""),
                ]
                for c in status.get("conditions") or ()
            ],
        ),
    )
    lines += section(
        "Processes",
        described_table(
            ("Name", *(c.capitalize() for c in PROCESS_COUNTS)),
            [[p.get("name", ""), *(str(p.get(c) or 0) for c in PROCESS_COUNTS)] for p in status.get("processes") or ()],
        ),
    )
    lines += section("Outputs", outputs_lines(outputs, now), empty="<not indexed>")
    lines += section(
        "Lifecycle Jobs",
        described_table(
            ("Name", "Operation", "Phase", "Reason", "Requested By", "Age", "Job Id"),
            [
                [
                    j["metadata"]["name"],
                    j["spec"].get("operation", ""),
                    (j.get("status") or {}).get("phase", ""),
                    (j.get("status") or {}).get("reason", ""),
                    j["spec"].get("requestedBy", ""),
                    render.age(j["metadata"].get("creationTimestamp"), now),
                    (j.get("status") or {}).get("jobId", ""),
                ]
                for j in jobs
            ],
        ),
    )
    if is_archived(run):
        lines.append("Events:  <none: the run is archived>")
    elif events is None:
        lines.append("Events:  <not permitted to list events>")
    else:
        lines += section("Events", event_lines(events, now))
    return lines


def outputs_lines(outputs: Mapping[str, Any], now: datetime) -> list[str]:
    if not outputs:
        return []
    deleted = outputs.get("deletedAt")
    size = outputs.get("bytes") or 0
    cost = (
        "$0.00 (deleted)"
        if deleted
        else (
            f"{usd(outputs.get('annualCostLow') or 0)} - {usd(outputs.get('annualCostHigh') or 0)} per year "
            "(Archive Instant - Frequent Access tier)"
        )
    )
    return fields(
        [
            ("Objects", outputs.get("count", 0)),
            ("Size", "Deleted" if deleted else f"{human_size(size)} ({size} bytes)"),
            ("Annual Cost", cost),
            ("Indexed", when(outputs.get("indexedAt"), now)),
            ("Deleted", f"{when(deleted, now)} by {outputs.get('deletedBy') or 'unknown'}" if deleted else None),
        ],
        indent=2,
    )


def event_lines(events: Sequence[Body], now: datetime) -> list[str]:
    def last_seen(event: Body) -> str:
        return str(event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp"))

    recent = sorted(events, key=last_seen)[-RECENT_EVENTS:]
    rows = []
    for event in recent:
        seen = render.age(last_seen(event), now)
        count = event.get("count") or 1
        if count > 1 and event.get("firstTimestamp"):
            seen += f" (x{count} over {render.age(event['firstTimestamp'], now)})"
        source = (event.get("source") or {}).get("component") or event.get("reportingComponent") or ""
        rows.append(
            [event.get("type") or "", event.get("reason") or "", seen, source, (event.get("message") or "").strip()]
        )
    return described_table(("Type", "Reason", "Age", "From", "Message"), rows)


def job_lines(job: Body, now: datetime) -> list[str]:
    metadata, spec, status = job["metadata"], job.get("spec") or {}, job.get("status") or {}
    record = job_record(job)
    lines = fields(
        [
            ("Name", metadata["name"]),
            ("Namespace", metadata["namespace"]),
            ("Job Id", status.get("jobId")),
            ("Run", spec.get("run")),
            ("Run Id", status.get("runId")),
            ("Operation", spec.get("operation")),
            ("Destination", spec.get("destination")),
            ("Dry Run", "true" if spec.get("dryRun") else None),
            ("Requested By", spec.get("requestedBy")),
            ("Requested By Groups", ", ".join(spec.get("requestedByGroups") or ()) or None),
            ("Phase", status.get("phase") or "<not admitted yet>"),
            ("Reason", status.get("reason")),
            ("Message", status.get("message")),
            ("Kubernetes Job", status.get("kubernetesJob")),
            ("Created", when(metadata.get("creationTimestamp"), now)),
            ("Started", when(status.get("startedAt"), now)),
            ("Completed", when(status.get("completedAt"), now)),
        ]
    )
    lines += section(
        "Counters",
        fields(
            [
                (label.capitalize(), getattr(record.counters, name))
                for label, name in COUNTERS.get(record.operation, ())
            ],
            indent=2,
        ),
    )
    lines += section(
        "Conditions",
        described_table(
            ("Type", "Status", "Reason", "Age", "Message"),
            [
                [
                    c.get("type", ""),
                    c.get("status", ""),
                    c.get("reason", ""),
                    render.age(c.get("lastTransitionTime"), now),
                    c.get("message", ""),
                ]
                for c in status.get("conditions") or ()
            ],
        ),
    )
    if status.get("shards"):
        lines += section("Shards", shard_rows(status["shards"]))
    return lines


def shard_rows(shards: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """A sharded job's shards: each one's key range (after, up to), phase and counts."""
    return described_table(
        ("Shard", "Phase", "After", "Up To", "Deleted", "Copied", "Reason"),
        [
            [
                key,
                str(entry.get("phase") or ""),
                str(entry.get("after") or "<start>"),
                str(entry.get("upto") or "<end>"),
                str(entry.get("objectsDeleted") or entry.get("objectsToDelete") or 0),
                str(entry.get("objectsCopied") or 0),
                str(entry.get("reason") or ""),
            ]
            for key, entry in sorted(shards.items(), key=lambda item: int(item[0]))
        ],
    )


@click.group()
def describe() -> None:
    """Show one run or lifecycle job in detail."""


@describe.command("run")
@click.argument("name", shell_complete=complete_names)
@pass_context
def describe_run(ctx: CliContext, name: str) -> None:
    """Show run NAME (resource name, run name or run id) in detail."""
    namespace = ctx.effective_namespace
    try:
        run = Getter(ctx, RUNS, namespace).by_name(name)
        if run is None:
            raise CliError(f"run {name!r} not found in namespace {namespace!r}")
        if is_archived(run):
            jobs, events = archived_jobs(ctx, run["status"]["id"]), None
        else:
            jobs = [j for j in Getter(ctx, JOBS, namespace).list()["items"] if _for_run(j, run)]
            events = _events(ctx, run)
        jobs.sort(key=lambda j: j["metadata"].get("creationTimestamp") or "")
    except (ApiException, HTTPError) as error:
        raise api_error(error, f"cannot describe run {name!r}") from error
    click.echo("\n".join(run_lines(run, jobs, events, datetime.now(UTC))))


@describe.command("job")
@click.argument("name")
@pass_context
def describe_job(ctx: CliContext, name: str) -> None:
    """Show lifecycle job NAME (resource name or job id) in detail."""
    namespace = ctx.effective_namespace
    try:
        job = Getter(ctx, JOBS, namespace).by_name(name)
    except (ApiException, HTTPError) as error:
        raise api_error(error, f"cannot describe job {name!r}") from error
    if job is None:
        raise CliError(f"lifecycle job {name!r} not found in namespace {namespace!r}")
    click.echo("\n".join(job_lines(job, datetime.now(UTC))))


def _for_run(job: Body, run: Body) -> bool:
    run_id, run_name = (run.get("status") or {}).get("id"), run["spec"]["runName"]
    job_run_id = (job.get("status") or {}).get("runId")
    if job_run_id:
        return bool(job_run_id == run_id)
    return job["spec"].get("run") in (run_name, run_id)


def _events(ctx: CliContext, run: Body) -> list[Body] | None:
    """The run's Events (None when the caller may not list them)."""
    core = client.CoreV1Api(ctx.api)
    try:
        listed = core.list_namespaced_event(
            run["metadata"]["namespace"],
            _preload_content=False,
            field_selector=f"involvedObject.uid={run['metadata']['uid']}",
        )
    except ApiException as error:
        if error.status == 403:
            return None
        raise
    # _preload_content=False: the raw HTTP response, not the CoreV1EventList the client's annotation names
    return list(json.loads(listed.data)["items"])  # type: ignore[attr-defined]
