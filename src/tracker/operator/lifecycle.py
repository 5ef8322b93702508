"""Admitting an OutputLifecycleJob and following its Kubernetes Job.

Admission resolves the run, authorizes the requester and starts the work: S3
operations as a Kubernetes Job running the worker (owned by the lifecycle job), with
the worker's service account ensured in the namespace first.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from tracker.domain.authz import authorize
from tracker.domain.conditions import rfc3339
from tracker.domain.records import JobPhase, Operation
from tracker.kube import manifests
from tracker.kube.resources import JOBS, LABEL_LIFECYCLE_JOB
from tracker.kube.runs import AmbiguousRunName, find_run
from tracker.kube.status import patch_status
from tracker.operator.context import OperatorContext

log = logging.getLogger(__name__)
Status = dict[str, Any]


def failed(reason: str, message: str, **extra: Any) -> Status:
    return {"phase": JobPhase.FAILED, "reason": reason, "message": message,
            "completedAt": rfc3339(datetime.now(UTC)), **extra}


def admit(ctx: OperatorContext, body: dict[str, Any]) -> Status:
    """The job's first status: Enqueued with its Kubernetes Job, or Failed with a reason."""
    metadata, spec = body["metadata"], body["spec"]
    status: Status = {"jobId": metadata["uid"]}
    try:
        run = find_run(ctx.api, ref=spec["run"], namespace=metadata["namespace"])
    except AmbiguousRunName as error:
        return {**status, **failed("AmbiguousRun", str(error))}
    if run is None or not (run.get("status") or {}).get("id"):
        return {**status, **failed("RunNotFound", f"no WorkflowRun named {spec['run']!r} "
                                                  f"in namespace {metadata['namespace']!r}")}
    run_id = run["status"]["id"]
    status["runId"] = run_id
    operation = Operation(spec["operation"])
    requester = spec["requestedBy"]
    if requester != ctx.identity:
        decision = authorize(user=requester, groups=spec.get("requestedByGroups") or (),
                             action=operation.value.replace("_", " "), run_name=run["spec"]["runName"],
                             owner=run["spec"]["owner"], cluster=run["spec"].get("cluster"),
                             admins=ctx.settings.admins.to_domain())
        if not decision.allowed:
            return {**status, **failed("Forbidden", decision.message)}
    if not operation.touches_s3:
        return {**status, **failed("Unsupported", f"{operation} is not supported yet")}
    job = manifests.worker_job(lifecycle_job=body, job_id=status["jobId"], run_id=run_id, settings=ctx.settings)
    ensure_worker_identity(ctx, metadata["namespace"])
    _create(lambda: ctx.batch.create_namespaced_job(metadata["namespace"], job))
    return {**status, "phase": JobPhase.ENQUEUED, "reason": "Enqueued", "kubernetesJob": job["metadata"]["name"],
            "message": f"Kubernetes Job {job['metadata']['name']} will run the worker"}


def ensure_worker_identity(ctx: OperatorContext, namespace: str) -> None:
    """The worker's ServiceAccount and RoleBinding in `namespace` (idempotent)."""
    _create(lambda: ctx.core.create_namespaced_service_account(namespace, manifests.worker_service_account(namespace)))
    _create(lambda: ctx.rbac.create_namespaced_role_binding(namespace, manifests.worker_role_binding(namespace)))


def _create(call: Any) -> None:
    try:
        call()
    except ApiException as error:
        if error.status != 409:  # already there: creation is idempotent by name
            raise


def job_outcome(job: dict[str, Any], lifecycle_status: dict[str, Any]) -> Status | None:
    """A Failed status when the Kubernetes Job failed before the worker reported an outcome."""
    if JobPhase(lifecycle_status.get("phase") or JobPhase.ENQUEUED).finished:
        return None
    for condition in (job.get("status") or {}).get("conditions") or ():
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            reason = condition.get("reason") or "JobFailed"
            return failed(reason, f"Kubernetes Job {job['metadata']['name']} failed ({reason}): "
                                  f"{condition.get('message') or 'no message'}; see its pods' logs")
    return None


def follow_kubernetes_job(ctx: OperatorContext, job: dict[str, Any]) -> None:
    """Mark the lifecycle job Failed when its Kubernetes Job gave up (backoff, deadline)."""
    namespace, name = job["metadata"]["namespace"], job["metadata"]["labels"][LABEL_LIFECYCLE_JOB]
    patch_status(ctx.api, plural=JOBS, namespace=namespace, name=name,
                 compute=lambda current: job_outcome(job, current.get("status") or {}))
