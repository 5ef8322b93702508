"""`tracker outputs ...`: a run's S3 outputs.

Lifecycle commands (delete, move, reindex, update-db) create OutputLifecycleJobs
through the Kubernetes API as the caller and report the operator's verdict; index
queries (info, ls, search, and job-status for jobs whose resource is gone) go to the
read API. RUN is the run name or the run id.
"""

from __future__ import annotations

from typing import Any

import click

from tracker.cli import render
from tracker.cli.context import CliContext, pass_context, read_api_error
from tracker.cli.errors import EXIT_USAGE, CliError
from tracker.cli.get import complete_names
from tracker.cli.lifecycle import (
    Body,
    Lifecycle,
    active_job,
    describe_active,
    finished,
    job_record,
    outcome_text,
    phase_of,
    status_text,
)
from tracker.cli.wait import EXIT_INTERRUPTED, Deadline, Duration, ProgressLine, TimedOut, timed_out
from tracker.domain.conditions import find
from tracker.domain.contention import BUSY, DUPLICATE
from tracker.domain.records import JobCounters, JobPhase, JobRecord, Operation
from tracker.domain.s3url import InvalidS3Url, parse_lookup_url, parse_prefix

VERBS = {
    Operation.DELETE_OUTPUTS: "delete",
    Operation.MOVE_OUTPUTS: "move",
    Operation.INDEX_OUTPUTS: "index",
    Operation.MARK_OUTPUTS_DELETED: "update-db",
    Operation.REWRITE_OUTPUT_PATHS: "update-db",
}
DEFAULT_TIMEOUT = 30 * 60.0


def _destination(text: str) -> str:
    """An `s3://bucket/prefix/` destination, checked before any API call (exit 2)."""
    try:
        parse_prefix(text, field="destination")
    except InvalidS3Url as error:
        raise CliError(str(error), EXIT_USAGE) from error
    return text


def _failure(job_id: str, status: dict[str, Any]) -> CliError:
    reason, message = status.get("reason") or "Failed", status.get("message") or "no message"
    return CliError(f"job {job_id} failed ({reason}): {message}")


class Request:
    """One lifecycle request from submission to the operator's verdict."""

    def __init__(self, ctx: CliContext, ref: str, operation: Operation, timeout: float) -> None:
        self.lc = Lifecycle(ctx)
        self.ref, self.operation = ref, operation
        self.deadline = Deadline(timeout)
        self.run = self.lc.resolve_run(ref)
        self.shown = self.run["spec"]["runName"] if self.run else ref

    def submit(self, **options: Any) -> Body:
        created = self.lc.submit(ref=self.ref, run=self.run, operation=self.operation, **options)
        self.name = created["metadata"]["name"]
        self.job_id = created["metadata"]["uid"]
        return created

    def duplicate(self, job: Body) -> str:
        """A request that resolved to the same request already active: the name of the
        active job's resource, to follow."""
        self.job_id = job["status"]["jobId"]
        return str(active_job(job).get("name") or job["metadata"]["name"])

    def busy(self, job: Body) -> CliError:
        """A different request while another job of the run is active: refused."""
        active = active_job(job)
        phase = str(active.get("phase") or "active").lower()
        return CliError(
            f"run {self.shown!r} is busy: {describe_active(active)} is {phase}; try again when it "
            f"has finished (tracker outputs job-status {active.get('jobId')})"
        )

    def follow(self, name: str, timeout: float) -> Body:
        try:
            return self.lc.follow(name, self.deadline, ProgressLine())
        except KeyboardInterrupt:
            raise CliError(
                f"interrupted: job {self.job_id} goes on (tracker outputs job-status {self.job_id})", EXIT_INTERRUPTED
            ) from None
        except TimedOut as timeout_:
            phase = str(phase_of(timeout_.last) or "enqueued").lower()
            raise timed_out(
                f"job {self.job_id}",
                timeout,
                f" ({phase}{_cannot_start(timeout_.last)}); check progress: tracker outputs job-status {self.job_id}",
            ) from None


def _cannot_start(body: Body | None) -> str:
    """Why a job still waits, when its worker pod cannot start (its WorkerStarted condition)."""
    worker = find(((body or {}).get("status") or {}).get("conditions") or [], "WorkerStarted")
    if worker is None or worker.get("status") != "False":
        return ""
    return f", its worker cannot start: {worker.get('reason')}: {worker.get('message')}"


def enqueue(
    ctx: CliContext,
    ref: str,
    operation: Operation,
    *,
    wait: bool,
    timeout: float,
    destination: str | None = None,
    dry_run: bool = False,
) -> None:
    """delete, move, reindex: enqueue, report the verdict, and with `wait` follow the job."""
    request = Request(ctx, ref, operation, timeout)
    verb, shown = VERBS[operation], request.shown
    created = request.submit(destination=destination, dry_run=dry_run)
    job = request.lc.await_admission(created, request.deadline)
    status = job.get("status") or {}
    phase, follow = status.get("phase"), job["metadata"]["name"]
    if status.get("reason") == DUPLICATE:
        follow = request.duplicate(job)
        click.echo(f"A {verb} job for {shown!r} is already {str(phase).lower()}: {request.job_id}")
        click.echo(f"Check progress: tracker outputs job-status {request.job_id}")
    elif status.get("reason") == BUSY:
        raise request.busy(job)
    elif phase == JobPhase.FAILED:
        raise _failure(status.get("jobId") or request.job_id, status)
    elif phase == JobPhase.SUCCEEDED:
        if status.get("reason") == "AlreadyDeleted":
            click.echo(f"The outputs of {shown!r} are already deleted: nothing to do.")
        else:
            click.echo(
                f"{verb.capitalize()} job {status.get('jobId')} for {shown!r} succeeded: "
                f"{outcome_text(job_record(job))}"
            )
        return
    else:
        request.job_id = status.get("jobId") or request.job_id
        label = str(phase or JobPhase.ENQUEUED).lower() + (", dry run" if dry_run else "")
        click.echo(f"Enqueued {verb} job {request.job_id} for {shown!r} ({label}).")
        click.echo(f"Check progress: tracker outputs job-status {request.job_id}")
        if phase is None and not wait:
            click.echo(
                f"tracker: warning: the operator has not picked up job {request.job_id} yet "
                "(is tracker-operator running?)",
                err=True,
            )
    if not wait:
        return
    final = request.follow(follow, timeout)
    final_status = final.get("status") or {}
    if final_status.get("phase") != JobPhase.SUCCEEDED:
        raise _failure(request.job_id, final_status)
    click.echo(f"Job {request.job_id} succeeded: {outcome_text(job_record(final))}")


def update_index(
    ctx: CliContext, ref: str, operation: Operation, *, timeout: float, destination: str | None = None
) -> None:
    """update-db: an index-only job, which the operator finishes at admission."""
    request = Request(ctx, ref, operation, timeout)
    created = request.submit(destination=destination)
    job = request.lc.await_admission(created, request.deadline)
    status = job.get("status") or {}
    if status.get("reason") == DUPLICATE:
        status = request.follow(request.duplicate(job), timeout).get("status") or {}
    elif status.get("reason") == BUSY:
        raise request.busy(job)
    elif not finished(job):
        status = request.follow(request.name, timeout).get("status") or {}
    if status.get("phase") != JobPhase.SUCCEEDED:
        raise _failure(request.job_id, status)
    shown = request.shown
    if status.get("reason") == "AlreadyDeleted":
        click.echo(f"The outputs of {shown!r} are already marked deleted: nothing to do.")
    elif operation is Operation.MARK_OUTPUTS_DELETED:
        click.echo(f"Updated {shown!r}: {status.get('rowsMarkedDeleted', 0)} output rows marked deleted.")
    else:
        click.echo(f"Updated {shown!r}: {status.get('rowsRewritten', 0)} output rows rewritten.")
        click.echo(f"  source: {status.get('source') or '-'}")
        click.echo(f"  dest:   {status.get('destination') or destination}")


@click.group()
def outputs() -> None:
    """Inspect and manage the S3 outputs of workflow runs."""


def _wait_options(function: Any) -> Any:
    function = click.option(
        "--timeout",
        type=Duration(),
        default="30m",
        show_default=True,
        help="with --wait: give up (exit 124) after this long (30s, 5m, 1h)",
    )(function)
    return click.option(
        "--wait", is_flag=True, help="wait until the job has finished (exit 0 succeeded, 1 failed, 124 timed out)"
    )(function)


@outputs.command()
@click.argument("run", shell_complete=complete_names)
@click.option("--dry-run", is_flag=True, help="count what would be deleted; delete nothing")
@_wait_options
@pass_context
def delete(ctx: CliContext, run: str, dry_run: bool, wait: bool, timeout: float) -> None:
    """Delete every S3 object under RUN's outputDir (a server-side job).

    Returns once the operator has taken the job on (or refused it); with --wait,
    once it has finished. Outputs already deleted: nothing to do, exit 0. A delete
    already running for RUN: its job id is printed.

    \b
    Exit codes: 0 enqueued or succeeded; 1 refused, failed, unknown run, or an
    authentication/permission error; 2 bad arguments; 124 --wait timed out;
    130 interrupted (the job goes on).
    """
    enqueue(ctx, run, Operation.DELETE_OUTPUTS, wait=wait, timeout=timeout, dry_run=dry_run)


@outputs.command()
@click.argument("run", shell_complete=complete_names)
@click.argument("destination")
@click.option("--dry-run", is_flag=True, help="count what would be moved; move nothing")
@_wait_options
@pass_context
def move(ctx: CliContext, run: str, destination: str, dry_run: bool, wait: bool, timeout: float) -> None:
    """Move RUN's outputs to DESTINATION (s3://bucket/prefix/) and update the index.

    \b
    Exit codes as for delete; a DESTINATION that is not an s3:// prefix ending in
    '/' exits 2 before anything is sent.
    """
    enqueue(
        ctx,
        run,
        Operation.MOVE_OUTPUTS,
        wait=wait,
        timeout=timeout,
        dry_run=dry_run,
        destination=_destination(destination),
    )


@outputs.command()
@click.argument("run", shell_complete=complete_names)
@_wait_options
@pass_context
def reindex(ctx: CliContext, run: str, wait: bool, timeout: float) -> None:
    """List RUN's outputDir again into the output index."""
    enqueue(ctx, run, Operation.INDEX_OUTPUTS, wait=wait, timeout=timeout)


@outputs.group("update-db")
def update_db() -> None:
    """Reflect S3 changes made by hand in the index (no S3 call)."""


@update_db.command()
@click.argument("run", shell_complete=complete_names)
@click.option("--timeout", type=Duration(), default="2m", show_default=True, help="give up (exit 124) after this long")
@pass_context
def deleted(ctx: CliContext, run: str, timeout: float) -> None:
    """Mark RUN's outputs deleted (you deleted them yourself). Idempotent.

    \b
    Exit codes: 0 updated (or already marked); 1 refused, unknown run or not
    permitted; 124 no verdict within --timeout.
    """
    update_index(ctx, run, Operation.MARK_OUTPUTS_DELETED, timeout=timeout)


@update_db.command()
@click.argument("run", shell_complete=complete_names)
@click.argument("destination")
@click.option("--timeout", type=Duration(), default="2m", show_default=True, help="give up (exit 124) after this long")
@pass_context
def moved(ctx: CliContext, run: str, destination: str, timeout: float) -> None:
    """Rewrite RUN's output rows and outputDir to DESTINATION (you moved them yourself).

    \b
    Exit codes: 0 updated; 1 refused (e.g. outputs marked deleted), unknown run or
    not permitted; 2 DESTINATION not an s3:// prefix ending in '/' (nothing sent);
    124 no verdict within --timeout.
    """
    update_index(ctx, run, Operation.REWRITE_OUTPUT_PATHS, timeout=timeout, destination=_destination(destination))


@outputs.command("job-status")
@click.argument("job_id", metavar="JOB_ID")
@pass_context
def job_status(ctx: CliContext, job_id: str) -> None:
    """Show a lifecycle job: live from Kubernetes, else from the index's history
    (through the read API, for jobs whose resource is gone).

    \b
    Exit codes: 0 found; 1 not found, or an authentication/server error.
    """
    k8s_error: CliError | None = None
    try:
        body = Lifecycle(ctx).find(job_id)
    except CliError as error:
        body, k8s_error = None, error
    if body is not None:
        click.echo(status_text(job_record(body)), nl=False)
        return
    if not ctx.api_url:
        if k8s_error is not None:
            raise k8s_error
        raise CliError(
            f"job {job_id!r} not found in namespace {ctx.effective_namespace!r} "
            "(set --api-url or TRACKER_API_URL to look up jobs whose resource is gone)"
        )
    from tracker.api.client import ApiError

    try:
        job = ctx.api_client.job(job_id)
    except ApiError as error:
        if error.status == 404:
            raise CliError(f"job {job_id!r} not found") from error
        raise read_api_error(error, f"cannot look up job {job_id!r}") from error
    click.echo(status_text(_api_job(job)), nl=False)


def _api_job(job: Any) -> JobRecord:
    fields = job.model_dump(by_alias=False, exclude={"counters", "requested_by_groups"})
    return JobRecord(
        **fields,
        requested_by_groups=tuple(job.requested_by_groups),
        counters=JobCounters(**job.counters.model_dump(by_alias=False)),
    )


# -- index queries (the read API) ------------------------------------------------------
@outputs.command()
@click.argument("url")
@pass_context
def info(ctx: CliContext, url: str) -> None:
    """Runs whose outputs contain URL (an s3:// object or prefix, any case).

    \b
    Exit codes: 0 found; 1 no match or a read-API error; 2 URL not an s3:// URL
    (nothing sent).
    """
    from tracker.api.client import ApiError

    try:
        parse_lookup_url(url)
    except InvalidS3Url as error:
        raise CliError(str(error), EXIT_USAGE) from error
    try:
        found = ctx.api_client.lookup(url).items
    except ApiError as error:
        raise read_api_error(error, f"cannot look up {url!r}") from error
    if not found:
        raise CliError(f"no run has outputs matching {url!r}")
    for run in found:
        click.echo(f"{run.run_name}  id={run.id}")


@outputs.command()
@click.argument("run", shell_complete=complete_names)
@click.argument("path", default="")
@click.option("--limit", type=click.IntRange(1, 1000), default=1000, show_default=True, help="most files to list")
@pass_context
def ls(ctx: CliContext, run: str, path: str, limit: int) -> None:
    """List one directory level of RUN's outputs (PATH relative to its outputDir)."""
    from tracker.api.client import ApiError

    try:
        listing = ctx.api_client.run_outputs(run, dir=path.lstrip("/"), namespace=ctx.namespace, limit=limit)
    except ApiError as error:
        raise read_api_error(error, f"cannot list the outputs of {run!r}") from error
    rows = [["NAME", "OBJECTS", "SIZE", "LAST MODIFIED", "STORAGE CLASS", "STATE"]]
    for d in listing.directories:
        state = "Deleted" if d.deleted and d.deleted == d.count else (f"{d.deleted} deleted" if d.deleted else "")
        rows.append([d.name, str(d.count), d.human_size, "", "", state])
    for f in listing.files:
        name = f.url.rsplit("/", 1)[-1] if not f.url.endswith("/") else f.url.rstrip("/").rsplit("/", 1)[-1] + "/"
        modified = render.rfc3339_or_blank(f.last_modified)
        rows.append([name, "1", f.human_size, modified, f.storage_class or "", "Deleted" if f.deleted else ""])
    where = (listing.output_dir or "") + listing.dir
    if len(rows) == 1:
        click.echo(f"No outputs under {where or repr(run)}.", err=True)
        return
    click.echo(render.table(rows), nl=False)
    if listing.more:
        click.echo(f"(more files under {where}: raise --limit)", err=True)


@outputs.command()
@click.argument("words", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="most matches to show")
@pass_context
def search(ctx: CliContext, words: tuple[str, ...], limit: int) -> None:
    """Outputs of every run whose URL contains all WORDS (any case).

    Exit codes: 0 found; 1 no match or a read-API error.
    """
    from tracker.api.client import ApiError

    if not any(w.strip() for w in words):
        raise CliError("give at least one word to search for", EXIT_USAGE)
    try:
        page = ctx.api_client.search(list(words), limit=limit)
    except ApiError as error:
        raise read_api_error(error, "cannot search outputs") from error
    if not page.items:
        raise CliError("no outputs match " + " ".join(repr(w) for w in words))
    rows = [["RUN", "SIZE", "STATE", "URL"]]
    rows += [[m.run_name, m.human_size, "Deleted" if m.deleted else "", m.url] for m in page.items]
    click.echo(render.table(rows), nl=False)
    if page.total > len(page.items):
        total = f"at least {page.total}" if page.total_is_lower_bound else str(page.total)
        click.echo(f"({len(page.items)} of {total} matches shown: raise --limit or add words)", err=True)
