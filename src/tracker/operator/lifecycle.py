"""Admitting an OutputLifecycleJob and following its Kubernetes Job.

Admission resolves the run (a run not ready yet is a retry; an archived run comes
from the index, `tracker.worker.runs`), meets the run's active
mutating job (tracker.domain.contention: the same request resolves to it, another is
refused as Busy), reviews the request (tracker.domain.lifecycle: authorization,
idempotency, the prefix fence) and starts the work: index-only operations here, S3
operations as a Kubernetes Job running the worker in the tracker's own namespace
(tracker.operator.workers follows it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from tracker.domain.conditions import rfc3339
from tracker.domain.contention import BUSY, DUPLICATE, Meeting
from tracker.domain.lifecycle import Outcome, Request, RunFacts, Verdict, review
from tracker.domain.records import JobPhase, Operation
from tracker.domain.shards import initial_entries
from tracker.kube import convert, manifests
from tracker.kube.client import as_body, resource
from tracker.kube.jobstatus import with_phase
from tracker.kube.resources import GROUP, JOBS, LABEL_DUPLICATE_OF, VERSION
from tracker.kube.runs import AmbiguousRunName
from tracker.kube.status import patch_status
from tracker.operator import shards, workers
from tracker.operator.contention import meet_active
from tracker.operator.context import OperatorContext
from tracker.store import jobs as job_rows
from tracker.worker import indexops, sharing
from tracker.worker.runs import find_job_run

Status = dict[str, Any]


def failed(reason: str, message: str, **extra: Any) -> Status:
    return {
        "phase": JobPhase.FAILED,
        "reason": reason,
        "message": message,
        "completedAt": rfc3339(datetime.now(UTC)),
        **extra,
    }


def succeeded(reason: str, message: str, **extra: Any) -> Status:
    now = rfc3339(datetime.now(UTC))
    return {
        "phase": JobPhase.SUCCEEDED,
        "reason": reason,
        "message": message,
        "startedAt": now,
        "completedAt": now,
        **extra,
    }


def run_facts(run: dict[str, Any]) -> RunFacts:
    spec, status = run["spec"], run.get("status") or {}
    return RunFacts(
        run_name=spec["runName"],
        owner=spec["owner"],
        cluster=spec.get("cluster"),
        output_dir=spec.get("outputDir"),
        outputs_deleted=bool((status.get("outputs") or {}).get("deletedAt")),
    )


def admit(ctx: OperatorContext, body: dict[str, Any], waited: float = 0.0) -> Status:
    """The job's first status: Enqueued with its Kubernetes Job, done at once (index-only
    operations, nothing to do), resolved to the same request already active, or Failed
    with a reason. The caller admits one job of a namespace at a time, in arrival order.
    `waited`: seconds since the first attempt (a run not ready yet is retried that long)."""
    metadata, spec = body["metadata"], body["spec"]
    status: Status = {"jobId": metadata["uid"]}
    try:
        run = find_job_run(ctx.api, ctx.sessions, ref=spec["run"], namespace=metadata["namespace"])
    except AmbiguousRunName as error:
        return with_phase(body, {**status, **failed("AmbiguousRun", str(error))})
    if run is None or not (run.get("status") or {}).get("id"):
        _retry_if_not_ready(ctx, run, spec["run"], waited)
        where = f"WorkflowRun named {spec['run']!r} in namespace {metadata['namespace']!r}"
        refusal = (
            failed("RunNotFound", f"no {where}")
            if run is None
            else failed("RunNotReady", f"the {where} has no id: is the operator tracking it?")
        )
        return with_phase(body, {**status, **refusal})
    run_id = run["status"]["id"]
    status["runId"] = run_id
    operation = Operation(spec["operation"])
    with ctx.sessions.begin() as session:
        active = job_rows.active_mutating_job(session, run_id=run_id) if operation.mutating else None
        sharing = _runs_sharing(session, run, run_id, operation)
    verdict = review(
        Request(operation, spec["requestedBy"], tuple(spec.get("requestedByGroups") or ()), spec.get("destination")),
        run_facts(run),
        admins=ctx.settings.admins.to_domain(),
        operator_identity=ctx.identity,
        runs_sharing_prefix=sharing,
    )
    prefixes = {k: str(v) for k, v in (("source", verdict.source), ("destination", verdict.destination)) if v}
    if active is not None and active.id != status["jobId"] and verdict.reason != "Forbidden":
        met = meet_active(spec, active, run["spec"]["runName"])
        if met.kind is Meeting.DUPLICATE:
            return with_phase(body, met.status)
        outcome = {**status, **failed(BUSY, met.message, **met.status)}
    elif verdict.outcome is Outcome.REFUSE:
        outcome = {**status, **failed(verdict.reason, verdict.message)}
    elif verdict.outcome is Outcome.DONE:
        outcome = {**status, **succeeded(verdict.reason, verdict.message)}
    elif not operation.touches_s3:
        outcome = {**status, **prefixes, **run_index_only(ctx, run, operation, spec, verdict)}
    else:
        outcome = {**status, **prefixes, **start_worker(ctx, body, run, run_id)}
    outcome = with_phase(body, outcome)
    with ctx.sessions.begin() as session:
        job_rows.upsert_job(session, record=convert.job_record({**body, "status": outcome}))
    return outcome


def _retry_if_not_ready(ctx: OperatorContext, run: dict[str, Any] | None, ref: str, waited: float) -> None:
    """A run without an id is not ready yet (the operator has not seen it); a missing run
    may be created in the same apply. Both are retried for a while, then refused."""
    limits = ctx.settings.admission
    if run is not None and waited < limits.run_not_ready_seconds:
        raise kopf.TemporaryError(f"run {ref!r} has no id yet: waiting for the operator to see it", delay=1)
    if run is None and waited < limits.run_not_found_grace_seconds:
        raise kopf.TemporaryError(f"run {ref!r} not found yet: looking again", delay=1)


def _runs_sharing(session: Any, run: dict[str, Any], run_id: str, operation: Operation) -> list[str]:
    if operation not in (Operation.DELETE_OUTPUTS, Operation.MOVE_OUTPUTS):
        return []
    return sharing.runs_sharing(session, {**run, "status": {**(run.get("status") or {}), "id": run_id}})


def run_index_only(
    ctx: OperatorContext, run: dict[str, Any], operation: Operation, spec: dict[str, Any], verdict: Verdict
) -> Status:
    """mark_outputs_deleted and rewrite_output_paths: the index and the run, no S3 call."""
    if operation is Operation.MARK_OUTPUTS_DELETED:
        rows = indexops.record_outputs_deleted(
            api=ctx.api, sessions=ctx.sessions, run=run, by=spec["requestedBy"], prices=ctx.settings.prices
        )
        return succeeded("Completed", f"{rows} output rows marked deleted (no S3 call)", rowsMarkedDeleted=rows)
    rows = indexops.record_outputs_moved(
        api=ctx.api, sessions=ctx.sessions, run=run, new_prefix=str(verdict.destination)
    )
    return succeeded(
        "Completed", f"{rows} output rows rewritten from {verdict.source} to {verdict.destination}", rowsRewritten=rows
    )


def start_worker(ctx: OperatorContext, body: dict[str, Any], run: dict[str, Any], run_id: str) -> Status:
    """Create the worker's Kubernetes Job in the worker namespace (idempotent by name):
    one pod, or an Indexed Job of one pod per key range (tracker.operator.shards)."""
    namespace = ctx.worker_namespace
    ranges = shards.plan(ctx, run, run_id, Operation(body["spec"]["operation"]))
    job = manifests.worker_job(
        lifecycle_job=body, namespace=namespace, run_id=run_id, settings=ctx.settings, shards=ranges
    )
    try:
        ctx.batch.create_namespaced_job(namespace, as_body(job))
    except ApiException as error:
        if error.status != 409:  # already there: a re-run admission after a crash
            raise
    name = job["metadata"]["name"]
    deadline = datetime.now(UTC) + timedelta(seconds=ctx.settings.worker.start_deadline_seconds)
    sharded = {"shardCount": len(ranges), "shards": initial_entries(ranges)} if ranges else {}
    return {
        "phase": JobPhase.ENQUEUED,
        "reason": "Enqueued",
        "kubernetesJob": name,
        "kubernetesJobNamespace": namespace,
        "workerStartDeadline": rfc3339(deadline),
        "message": f"Kubernetes Job {namespace}/{name} will run the worker"
        + (f" in {len(ranges)} shards (key ranges of the run's prefix)" if ranges else ""),
        **sharded,
    }


def job_outcome(job: dict[str, Any], lifecycle_status: dict[str, Any]) -> Status | None:
    """A Failed status when the Kubernetes Job failed before the worker reported an outcome."""
    if JobPhase(lifecycle_status.get("phase") or JobPhase.ENQUEUED).finished:
        return None
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            reason = condition.get("reason") or "JobFailed"
            return failed(
                reason,
                f"Kubernetes Job {job['metadata']['name']} failed ({reason}): "
                f"{condition.get('message') or 'no message'}; see its pods' logs",
            )
    return None


def follow_kubernetes_job(ctx: OperatorContext, job: dict[str, Any]) -> None:
    """Mark the lifecycle job Failed when its Kubernetes Job gave up (backoff, deadline);
    delete the Job when its lifecycle job is gone."""
    if workers.reap_if_orphaned(ctx, job):
        return
    owner = workers.owner_of(job)
    if owner is None:
        return
    namespace, name, uid = owner
    if shards.is_sharded(job) and shards.completed(job):
        shards.finish(ctx, namespace, name, uid)
        return

    def compute(current: dict[str, Any]) -> Status | None:
        outcome = job_outcome(job, current.get("status") or {}) if current["metadata"]["uid"] == uid else None
        return with_phase(current, outcome) if outcome else None

    patch_status(ctx.api, plural=JOBS, namespace=namespace, name=name, compute=compute)


def sync_duplicates(ctx: OperatorContext, body: dict[str, Any]) -> None:
    """Requests that resolved to this job (the same request) show its progress and
    outcome too; their own reason (Duplicate), message and conditions' history stay."""
    status = body.get("status") or {}
    if not status.get("jobId") or status.get("reason") == DUPLICATE:
        return
    namespace = body["metadata"]["namespace"]
    duplicates = resource(
        ctx.custom.list_namespaced_custom_object(
            GROUP, VERSION, namespace, JOBS, label_selector=f"{LABEL_DUPLICATE_OF}={status['jobId']}"
        )
    )["items"]
    mirrored = {k: v for k, v in status.items() if k not in _OWN_FIELDS}
    for duplicate in duplicates:
        own = duplicate.get("status") or {}
        if own.get("reason") != DUPLICATE:
            continue  # labelled, its admission status not written yet (kopf patches them apart)
        if any(own.get(k) != v for k, v in mirrored.items()):
            patch = with_phase(duplicate, {**mirrored, "reason": own.get("reason"), "message": own.get("message")})
            ctx.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, JOBS, duplicate["metadata"]["name"], {"status": patch}
            )


_OWN_FIELDS = ("reason", "message", "jobId", "conditions", "observedGeneration", "activeJob")
