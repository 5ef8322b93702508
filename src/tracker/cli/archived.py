"""Archived runs for `tracker get runs` and `tracker describe run`: their WorkflowRun is
gone (the operator's archiver removed it), so they come from the read API, shaped as
the resource was (kind, metadata, spec, status) so that the same tables, JSON/YAML and
descriptions show them. The annotation ARCHIVED_AT marks them (as on the run bodies
the operator rebuilds from the index, `tracker.kube.convert.archived_run_body`). The read API is only
asked when one is configured (`--api-url`/`TRACKER_API_URL`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tracker.cli.context import CliContext, read_api_error
from tracker.cli.errors import EXIT_USAGE, CliError
from tracker.domain.conditions import rfc3339
from tracker.kube.convert import is_archived
from tracker.kube.resources import ANNOTATION_ARCHIVED_AT, GROUP, JOB_KIND, RUN_KIND, VERSION

if TYPE_CHECKING:
    from tracker.api import schemas

Body = dict[str, Any]
ARCHIVED_AT = ANNOTATION_ARCHIVED_AT
PAGE = 500
__all__ = ["ARCHIVED_AT", "archived_jobs", "find_archived", "is_archived", "list_archived"]


def find_archived(ctx: CliContext, ref: str, namespace: str | None) -> Body | None:
    """The archived run whose run name or id is `ref` (None: no such archived run, or
    no read API configured)."""
    if not ctx.api_url:
        return None
    from tracker.api.client import ApiError

    try:
        detail = ctx.api_client.run(ref, namespace=namespace)
    except ApiError as error:
        if error.status == 404:
            return None
        raise read_api_error(error, f"cannot look up archived run {ref!r}") from error
    return run_body(detail) if detail.archived else None


def list_archived(ctx: CliContext, namespace: str | None, selector: str | None) -> list[Body]:
    """Every archived run in `namespace` (None: all), matching an equality-only label
    selector (`a=b,c=d`), from the read API (which must be configured)."""
    from tracker.api.client import ApiError

    labels = _labels(selector)
    items: list[Body] = []
    try:
        while True:
            page = ctx.api_client.runs(
                archived=True, namespace=namespace, labels=labels, sort="-completed_at", limit=PAGE, offset=len(items)
            )
            items += [run_body(r) for r in page.items]
            if not page.items or len(items) >= page.total:
                return items
    except ApiError as error:
        raise read_api_error(error, "cannot list archived runs") from error


def archived_jobs(ctx: CliContext, run_id: str) -> list[Body]:
    """The lifecycle jobs of an archived run, from their history in the index."""
    from tracker.api.client import ApiError

    jobs: list[Body] = []
    try:
        while True:
            page = ctx.api_client.run_jobs(run_id, limit=PAGE, offset=len(jobs))
            jobs += [job_body(j) for j in page.items]
            if not page.items or len(jobs) >= page.total:
                return jobs
    except ApiError as error:
        raise read_api_error(error, f"cannot get the lifecycle jobs of run {run_id}") from error


def _labels(selector: str | None) -> dict[str, str]:
    labels: dict[str, str] = {}
    for term in filter(None, (selector or "").split(",")):
        key, equals, value = term.partition("=")
        if not equals or key.endswith("!") or not key.strip():
            raise CliError(f"with --archived, a selector takes key=value terms only, not {term!r}", EXIT_USAGE)
        labels[key.strip()] = value.removeprefix("=").strip()
    return labels


def _time(value: Any) -> str | None:
    return rfc3339(value) if value is not None else None


def run_body(run: schemas.RunSummary) -> Body:
    """The WorkflowRun an archived run was, as far as the index knows it."""
    detail: Mapping[str, Any] = run.model_dump(mode="json", by_alias=True) if hasattr(run, "workflow") else {}
    outputs = run.outputs
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": RUN_KIND,
        "metadata": {
            "name": run.name,
            "namespace": run.namespace,
            "labels": dict(run.labels),
            "annotations": {ARCHIVED_AT: _time(run.archived_at) or ""},
            "creationTimestamp": _time(run.created_at),
        },
        "spec": _present(
            {
                "runName": run.run_name,
                "owner": run.owner,
                "cluster": run.cluster,
                "engine": run.engine,
                "outputDir": run.output_dir,
                "workflow": _present(detail.get("workflow") or {}) or None,
                "workDir": detail.get("workDir"),
                "sessionId": detail.get("sessionId"),
                "commandLine": detail.get("commandLine"),
            }
        ),
        "status": _present(
            {
                "id": run.id,
                "phase": run.phase,
                "state": run.state,
                "startedAt": _time(run.started_at),
                "completedAt": _time(run.completed_at),
                "lastHeartbeatTime": _time(run.last_heartbeat_at),
                "cost": run.cost,
                "errorMessage": detail.get("errorMessage"),
                "peakConcurrency": detail.get("peakConcurrency"),
                "conditions": [_present(c) for c in detail.get("conditions") or ()],
                "processes": list(detail.get("processes") or ()),
                "outputs": _present(
                    {
                        "count": outputs.count,
                        "bytes": outputs.bytes,
                        "size": outputs.size,
                        "annualCostLow": outputs.annual_cost_low,
                        "annualCostHigh": outputs.annual_cost_high,
                        "indexedAt": _time(outputs.indexed_at),
                        "deletedAt": _time(outputs.deleted_at),
                        "deletedBy": outputs.deleted_by,
                    }
                ),
            }
        ),
    }


def job_body(job: schemas.Job) -> Body:
    """A lifecycle job of an archived run, as its resource was (its history row)."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": JOB_KIND,
        "metadata": {"name": job.name, "namespace": job.namespace, "creationTimestamp": _time(job.created_at)},
        "spec": _present({"run": job.run, "operation": job.operation, "requestedBy": job.requested_by}),
        "status": _present({"jobId": job.id, "runId": job.run_id, "phase": job.phase, "reason": job.reason}),
    }


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
