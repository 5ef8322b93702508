"""Lifecycle jobs from the CLI: create one as the caller (identity from a
SelfSubjectReview, as the admission policy demands), wait briefly for the operator's
verdict, follow it to the end, and describe a job as `job-status` prints it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from tracker.cli.archived import find_archived
from tracker.cli.context import CliContext, api_error
from tracker.cli.errors import CliError
from tracker.cli.wait import Clock, Deadline, ProgressLine, TimedOut, poll
from tracker.domain.conditions import rfc3339
from tracker.domain.contention import DUPLICATE, Ask, describe
from tracker.domain.cost import human_size
from tracker.domain.records import JobPhase, JobRecord, Operation
from tracker.kube.client import resource
from tracker.kube.requests import request_job, requested_record
from tracker.kube.resources import GROUP, JOBS, VERSION
from tracker.kube.runs import AmbiguousRunName, find_run

ADMISSION_SECONDS = 30.0  # how long a command waits for the operator's verdict
Body = dict[str, Any]

# The counters (tracker.domain.records.JobCounters fields) job-status prints for each
# operation, in order; a dry run prints what it would change instead.
_SHOWN = {
    Operation.DELETE_OUTPUTS: ("objects_deleted", "bytes_deleted"),
    Operation.MOVE_OUTPUTS: ("objects_copied", "bytes_copied", "objects_deleted", "bytes_deleted", "rows_rewritten"),
    Operation.INDEX_OUTPUTS: ("objects_indexed",),
    Operation.REWRITE_OUTPUT_PATHS: ("rows_rewritten",),
    Operation.MARK_OUTPUTS_DELETED: ("rows_marked_deleted",),
}
_SHOWN_DRY_RUN = {
    Operation.DELETE_OUTPUTS: ("objects_to_delete", "bytes_to_delete"),
    Operation.MOVE_OUTPUTS: ("objects_to_move", "bytes_to_move"),
}
COUNTERS: dict[str, tuple[tuple[str, str], ...]] = {
    op: tuple((name.replace("_", " "), name) for name in names) for op, names in _SHOWN.items()
}
DRY_RUN_COUNTERS: dict[str, tuple[tuple[str, str], ...]] = {
    op: tuple((name.replace("_", " "), name) for name in names) for op, names in _SHOWN_DRY_RUN.items()
}
_ROUTINE_REASONS = {None, "", "Completed", "Enqueued", "Running"}


def phase_of(body: Body) -> str | None:
    return (body.get("status") or {}).get("phase")


def finished(body: Body) -> bool:
    phase = phase_of(body)
    return phase is not None and JobPhase(phase).finished


job_record = requested_record  # a job resource as a record, also before the operator gave it a status


def status_text(job: JobRecord) -> str:
    """What `tracker outputs job-status` prints."""
    lines = [
        f"{job.operation}  {job.phase.lower()}  (id={job.id})",
        f"run_id: {job.run_id or '-'}",
        f"started: {rfc3339(job.started_at) if job.started_at else '-'}",
        f"completed: {rfc3339(job.completed_at) if job.completed_at else '-'}",
    ]
    lines += [f"{label}: {getattr(job.counters, field)}" for label, field in counters_shown(job)]
    if job.destination:
        lines.append(f"destination: {job.destination}")
    if job.phase == JobPhase.FAILED or job.dry_run or job.reason not in _ROUTINE_REASONS:
        lines.append(f"reason: {job.reason or '-'}")
        lines.append(f"message: {job.message or '-'}")
    return "\n".join(lines) + "\n"


def counters_shown(job: JobRecord) -> tuple[tuple[str, str], ...]:
    """(label, JobCounters field) pairs job-status prints for `job`."""
    if job.dry_run and job.operation in DRY_RUN_COUNTERS:
        return DRY_RUN_COUNTERS[job.operation]
    return COUNTERS.get(job.operation, ())


def outcome_text(job: JobRecord) -> str:
    """What a finished job did: for a dry run, the counts it found (from its counters);
    otherwise the operator's or worker's message, shown as it is."""
    c = job.counters
    if job.dry_run and job.operation == Operation.DELETE_OUTPUTS:
        return (
            f"dry run: would delete {c.objects_to_delete} objects ({human_size(c.bytes_to_delete)}) "
            f"under {job.source or '-'}; nothing was changed"
        )
    if job.dry_run and job.operation == Operation.MOVE_OUTPUTS:
        return (
            f"dry run: would move {c.objects_to_move} objects ({human_size(c.bytes_to_move)}) "
            f"from {job.source or '-'} to {job.destination or '-'}; nothing was changed"
        )
    return job.message or "done"


def active_job(body: Body) -> dict[str, Any]:
    """The active job a request met at admission (status.activeJob)."""
    return dict((body.get("status") or {}).get("activeJob") or {})


def describe_active(active: dict[str, Any]) -> str:
    """`delete_outputs (dry run) job 7f3e...`: the active job as a busy error names it."""
    ask = Ask.of(active.get("operation") or "another", active.get("dryRun"), active.get("destination"))
    return f"{describe(ask)} job {active.get('jobId')}"


def progress_text(job: JobRecord, elapsed: float) -> str:
    counters = job.counters
    counts: dict[str, str] = {
        Operation.DELETE_OUTPUTS: f"{counters.objects_deleted} objects deleted ({human_size(counters.bytes_deleted)})",
        Operation.MOVE_OUTPUTS: f"{counters.objects_copied} objects copied ({human_size(counters.bytes_copied)}), "
        f"{counters.objects_deleted} sources deleted",
        Operation.INDEX_OUTPUTS: f"{counters.objects_indexed} objects indexed",
    }
    parts = counts.get(job.operation, "")
    return f"{job.operation} {job.phase.lower()}{': ' + parts if parts else ''} [{int(elapsed)}s]"


@dataclass
class Lifecycle:
    """Lifecycle-job calls for one CLI invocation (namespace and clients from `ctx`)."""

    ctx: CliContext
    clock: Clock | None = None

    @property
    def namespace(self) -> str:
        return self.ctx.effective_namespace

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.ctx.api)

    def resolve_run(self, ref: str) -> Body | None:
        """The run named (or with the id) `ref`, or the archived run (from the read API,
        when configured); None when the caller may not list runs (the operator then
        decides); a missing run is an error."""
        try:
            run = find_run(self.ctx.api, ref=ref, namespace=self.namespace)
        except AmbiguousRunName as error:
            raise CliError(str(error)) from error
        except ApiException as error:
            if error.status == 403:
                return None
            raise api_error(error, f"cannot look up run {ref!r}") from error
        except HTTPError as error:
            raise api_error(error, f"cannot look up run {ref!r}") from error
        if run is None:
            run = find_archived(self.ctx, ref, self.namespace)
        if run is None:
            raise CliError(f"run {ref!r} not found in namespace {self.namespace!r}")
        return run

    def submit(
        self, *, ref: str, run: Body | None, operation: Operation, destination: str | None = None, dry_run: bool = False
    ) -> Body:
        """Create the OutputLifecycleJob as the authenticated user."""
        try:
            return request_job(
                self.ctx.api,
                namespace=self.namespace,
                run_ref=ref,
                run_resource_name=run["metadata"]["name"] if run else None,
                operation=operation,
                destination=destination,
                dry_run=dry_run,
            )
        except (ApiException, HTTPError) as error:
            raise api_error(error, f"cannot create the {operation} job for run {ref!r}") from error

    def get(self, name: str) -> Body:
        try:
            return resource(self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, JOBS, name))
        except (ApiException, HTTPError) as error:
            raise api_error(error, f"cannot read lifecycle job {name!r}") from error

    def list(self) -> list[Body]:
        try:
            items: list[Body] = resource(
                self.custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, JOBS)
            )["items"]
            return items
        except (ApiException, HTTPError) as error:
            raise api_error(error, f"cannot list lifecycle jobs in namespace {self.namespace!r}") from error

    def find(self, job_id: str) -> Body | None:
        """The job resource with this id (its uid), else one whose status names it (not
        a duplicate), else the only one whose uid starts with it."""
        items = self.list()
        exact = [j for j in items if j["metadata"].get("uid") == job_id]
        named = [
            j
            for j in items
            if (j.get("status") or {}).get("jobId") == job_id and (j.get("status") or {}).get("reason") != DUPLICATE
        ]
        prefixed = [j for j in items if len(job_id) >= 4 and j["metadata"].get("uid", "").startswith(job_id)]
        for matches in (exact, named, prefixed if len(prefixed) == 1 else []):
            if matches:
                return matches[0]
        return None

    def await_admission(self, created: Body, deadline: Deadline) -> Body:
        """The job once the operator gave it a phase; as created if it did not in time."""
        name = created["metadata"]["name"]
        try:
            return poll(
                lambda: self.get(name),
                lambda b: phase_of(b) is not None,
                within=max(0.0, min(ADMISSION_SECONDS, deadline.remaining)),
                clock=self.clock,
                interval=0.1,
                max_interval=0.5,
            )
        except TimedOut as timeout:
            return timeout.last  # type: ignore[no-any-return]

    def follow(self, name: str, deadline: Deadline, progress: ProgressLine) -> Body:
        """The job once finished; `TimedOut` at the deadline. Progress on a terminal."""

        def show(body: Body) -> None:
            progress.update(progress_text(job_record(body), deadline.elapsed))

        try:
            return poll(
                lambda: self.get(name), finished, within=max(0.0, deadline.remaining), clock=self.clock, on_update=show
            )
        finally:
            progress.clear()


Printer = Callable[[str], None]
