"""`tracker report heartbeat | phase | progress RUN`: status reports for shell-driven
runners. Each is one merge patch of the WorkflowRun's status subresource."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from tracker.cli.context import CliContext, api_error, pass_context
from tracker.cli.errors import CliError
from tracker.domain.conditions import rfc3339
from tracker.domain.records import Phase
from tracker.kube.client import resource
from tracker.kube.resources import GROUP, RUNS, VERSION
from tracker.kube.runs import AmbiguousRunName, find_run

COUNT_FIELDS = ("succeeded", "failed", "aborted", "running", "cached", "retried", "submitted", "pending")


def _now() -> str:
    return rfc3339(datetime.now(UTC))


def patch_run_status(ctx: CliContext, ref: str, status: dict[str, Any]) -> dict[str, Any]:
    namespace = ctx.effective_namespace
    try:
        run = find_run(ctx.api, ref=ref, namespace=namespace)
        if run is None:
            raise CliError(f"run {ref!r} not found in namespace {namespace!r}")
        return resource(
            client.CustomObjectsApi(ctx.api).patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, RUNS, run["metadata"]["name"], {"status": status}
            )
        )
    except AmbiguousRunName as error:
        raise CliError(str(error)) from error
    except (ApiException, HTTPError) as error:
        raise api_error(error, f"cannot report on run {ref!r}") from error


@click.group()
def report() -> None:
    """Report a run's progress (for runners driven from a shell)."""


@report.command()
@click.argument("run")
@pass_context
def heartbeat(ctx: CliContext, run: str) -> None:
    """Record that RUN's runner is alive."""
    patch_run_status(ctx, run, {"lastHeartbeatTime": _now()})
    click.echo(f"heartbeat recorded for {run!r}")


@report.command()
@click.argument("run")
@click.argument("phase", type=click.Choice([p.value for p in Phase]))
@click.option("--error", "error_message", help="the error report (with Failed)")
@pass_context
def phase(ctx: CliContext, run: str, phase: str, error_message: str | None) -> None:
    """Set RUN's PHASE; Running stamps startedAt, a terminal phase completedAt."""
    patch_run_status(ctx, run, phase_report(Phase(phase), _now(), error_message))
    click.echo(f"run {run!r} is {phase}")


def phase_report(phase: Phase, now: str, error_message: str | None = None) -> dict[str, Any]:
    """The status patch for a phase change. Running starts an execution (a resumed run
    too), so it clears the previous execution's completion time and error."""
    status: dict[str, Any] = {"phase": phase.value, "lastHeartbeatTime": now}
    if phase == Phase.RUNNING:
        status.update(startedAt=now, completedAt=None, errorMessage=None)
    if phase.terminal:
        status["completedAt"] = now
    if error_message:
        status["errorMessage"] = error_message
    return status


@report.command()
@click.argument("run")
@click.option("--process", "process_name", help="the process whose task counts follow")
@click.option("--processes-json", type=click.File(), help="a JSON list of processes with counts ('-' for stdin)")
@click.option("--peak-concurrency", type=click.IntRange(min=0))
@click.option("--cost", type=click.FloatRange(min=0), help="estimated compute cost so far (USD)")
@pass_context
def progress(
    ctx: CliContext,
    /,
    run: str,
    process_name: str | None,
    processes_json: Any,
    peak_concurrency: int | None,
    cost: float | None,
    **counts: int | None,
) -> None:
    """Report task counts of one process (or of all, as JSON), peak concurrency and cost."""
    status: dict[str, Any] = {"lastHeartbeatTime": _now()}
    if processes_json is not None:
        try:
            status["processes"] = json.load(processes_json)
        except ValueError as error:
            raise CliError(f"--processes-json is not valid JSON: {error}") from error
    elif process_name:
        status["processes"] = _merge_process(ctx, run, process_name, counts)
    if peak_concurrency is not None:
        status["peakConcurrency"] = peak_concurrency
    if cost is not None:
        status["cost"] = cost
    patch_run_status(ctx, run, status)
    click.echo(f"progress recorded for {run!r}")


for _field in reversed(COUNT_FIELDS):
    progress = click.option(f"--{_field}", type=click.IntRange(min=0), help=f"{_field} tasks")(progress)


def _merge_process(ctx: CliContext, run: str, name: str, counts: dict[str, int | None]) -> list[dict[str, Any]]:
    """The run's process list with NAME's given counts replaced (merge patch replaces lists)."""
    try:
        current = find_run(ctx.api, ref=run, namespace=ctx.effective_namespace)
    except (ApiException, HTTPError) as error:
        raise api_error(error, f"cannot read run {run!r}") from error
    if current is None:
        raise CliError(f"run {run!r} not found in namespace {ctx.effective_namespace!r}")
    processes = list((current.get("status") or {}).get("processes") or [])
    entry = next((p for p in processes if p["name"] == name), None)
    if entry is None:
        entry = {"name": name}
        processes.append(entry)
    entry.update({k: v for k, v in counts.items() if v is not None})
    return processes
