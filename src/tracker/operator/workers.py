"""Following a lifecycle job's worker: its pods, its start deadline, its Kubernetes Job.

Worker Jobs run in the tracker's namespace, named to their lifecycle job by labels
(ownerReferences cannot cross namespaces). A worker pod that cannot start shows on the
lifecycle job within seconds (condition `WorkerStarted` False, with the pod's reason);
a job whose worker has not started by `status.workerStartDeadline` fails with that
reason; the Kubernetes Job goes when its lifecycle job goes, also when the operator
was down at the time (its next event, or the listing at start-up, finds it orphaned).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tracker.domain.conditions import Desired, apply, find, is_true, parse_time, rfc3339
from tracker.domain.records import JobPhase
from tracker.domain.workerpods import start_problem
from tracker.kube.client import resource
from tracker.kube.jobstatus import with_phase
from tracker.kube.resources import (
    GROUP,
    JOBS,
    LABEL_LIFECYCLE_JOB,
    LABEL_LIFECYCLE_JOB_NAMESPACE,
    LABEL_LIFECYCLE_JOB_UID,
    VERSION,
)
from tracker.kube.status import patch_status
from tracker.operator.context import OperatorContext

log = logging.getLogger(__name__)
WORKER_STARTED = "WorkerStarted"
NOT_STARTED = "WorkerNotStarted"
Status = dict[str, Any]
Key = tuple[str, str]


def owner_of(job_or_pod: dict[str, Any]) -> tuple[str, str, str] | None:
    """(namespace, name, uid) of the lifecycle job a worker Job or pod serves, from its labels."""
    labels = job_or_pod["metadata"].get("labels") or {}
    parts = (
        labels.get(LABEL_LIFECYCLE_JOB_NAMESPACE),
        labels.get(LABEL_LIFECYCLE_JOB),
        labels.get(LABEL_LIFECYCLE_JOB_UID),
    )
    return parts if all(parts) else None  # type: ignore[return-value]


def _enqueued(current: dict[str, Any], uid: str) -> bool:
    status = current.get("status") or {}
    return current["metadata"]["uid"] == uid and (status.get("phase") or JobPhase.ENQUEUED) == JobPhase.ENQUEUED


def cannot_start(reason: str, message: str, conditions: list[dict[str, Any]]) -> Status:
    """The status of a job whose worker pod cannot start (the job waits, until its deadline)."""
    return {
        "reason": reason,
        "message": message,
        "conditions": apply(conditions, Desired(WORKER_STARTED, False, reason, message), datetime.now(UTC)),
    }


def follow_worker_pod(ctx: OperatorContext, pod: dict[str, Any]) -> None:
    """Show on the lifecycle job why its worker pod cannot start, while it is Enqueued."""
    owner, problem = owner_of(pod), start_problem(pod)
    if owner is None or problem is None:
        return
    namespace, name, uid = owner

    def compute(current: dict[str, Any]) -> Status | None:
        status = current.get("status") or {}
        if not _enqueued(current, uid) or status.get("reason") == problem.reason:
            return None
        return cannot_start(problem.reason, problem.message, status.get("conditions") or [])

    _patch_if_present(ctx, namespace, name, compute)


def worker_started(body: dict[str, Any]) -> Status | None:
    """`WorkerStarted` True once the worker reported Running (or finished after starting)."""
    status = body.get("status") or {}
    conditions = status.get("conditions") or []
    if status.get("phase") != JobPhase.RUNNING or is_true(conditions, WORKER_STARTED):
        return None
    return {
        "conditions": apply(
            conditions, Desired(WORKER_STARTED, True, "Running", "the worker is running"), datetime.now(UTC)
        )
    }


def lifecycle_job_changed(ctx: OperatorContext, body: dict[str, Any]) -> None:
    """Keep the start deadline of an Enqueued job in view, and mark its worker started."""
    metadata, status = body["metadata"], body.get("status") or {}
    key = (metadata["namespace"], metadata["name"])
    deadline = parse_time(status.get("workerStartDeadline"))
    if status.get("phase") == JobPhase.ENQUEUED and deadline is not None and status.get("reason") != "Duplicate":
        ctx.start_deadlines.schedule(key, deadline.timestamp())
    else:
        ctx.start_deadlines.forget(key)
    if worker_started(body) is not None:
        _patch_if_present(ctx, key[0], key[1], worker_started)
    elif shown_reason(body) is not None:
        _patch_if_present(ctx, key[0], key[1], shown_reason)


def shown_reason(body: dict[str, Any]) -> Status | None:
    """An Enqueued job's reason and message are its worker pod's while it cannot start
    (the pod may have said so before the job's admission wrote `Enqueued`)."""
    status = body.get("status") or {}
    worker = find(status.get("conditions") or [], WORKER_STARTED)
    if (
        status.get("phase") != JobPhase.ENQUEUED
        or worker is None
        or worker.get("status") != "False"
        or status.get("reason") in (worker.get("reason"), "Duplicate")
    ):
        return None
    return {"reason": worker["reason"], "message": worker["message"]}


def enforce_start_deadline(ctx: OperatorContext, key: Key) -> None:
    """Fail a job whose worker has not started by its deadline, with the pod's reason; its
    Kubernetes Job is deleted (a pod waiting on a missing Secret would wait for hours)."""
    namespace, name = key
    failed_job: dict[str, Any] = {}

    def compute(current: dict[str, Any]) -> Status | None:
        status = current.get("status") or {}
        deadline = parse_time(status.get("workerStartDeadline"))
        conditions = status.get("conditions") or []
        if (
            not _enqueued(current, current["metadata"]["uid"])
            or deadline is None
            or datetime.now(UTC) < deadline
            or is_true(conditions, WORKER_STARTED)
        ):
            return None
        waiting = find(conditions, WORKER_STARTED)
        reason = waiting["reason"] if waiting else NOT_STARTED
        cause = waiting["message"] if waiting else "no worker pod reported why"
        message = f"the worker did not start within {ctx.settings.worker.start_deadline_seconds}s ({reason}): {cause}"
        failed_job.update(current)
        started = apply(conditions, Desired(WORKER_STARTED, False, reason, message), datetime.now(UTC))
        return with_phase(
            {**current, "status": {**status, "conditions": started}},
            {"phase": JobPhase.FAILED, "reason": reason, "message": message, "completedAt": rfc3339(datetime.now(UTC))},
        )

    _patch_if_present(ctx, namespace, name, compute)
    if failed_job:
        delete_worker_job(ctx, failed_job)


def delete_worker_job(ctx: OperatorContext, lifecycle_job: dict[str, Any]) -> None:
    """Delete the lifecycle job's own Kubernetes Job and its pods (never a job it only follows)."""
    status = lifecycle_job.get("status") or {}
    name, namespace = status.get("kubernetesJob"), status.get("kubernetesJobNamespace")
    if not name or not namespace:
        return
    try:
        job = ctx.batch.read_namespaced_job(name, namespace)
    except ApiException as error:
        if error.status == 404:
            return
        raise
    labels = (job.metadata.labels if job.metadata is not None else None) or {}
    if labels.get(LABEL_LIFECYCLE_JOB_UID) == lifecycle_job["metadata"]["uid"]:
        _delete_job(ctx, namespace, name)


def reap_if_orphaned(ctx: OperatorContext, job: dict[str, Any]) -> bool:
    """Delete a worker Job whose lifecycle job is gone (or re-created: another uid)."""
    owner = owner_of(job)
    if owner is None:
        return False
    namespace, name, uid = owner
    try:
        current = resource(ctx.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, JOBS, name))
    except ApiException as error:
        if error.status != 404:
            raise
        current = None
    if current is not None and current["metadata"]["uid"] == uid:
        return False
    if not job["metadata"].get("deletionTimestamp"):
        log.info(
            "deleting Kubernetes Job %s/%s: its lifecycle job %s/%s is gone",
            job["metadata"]["namespace"],
            job["metadata"]["name"],
            namespace,
            name,
        )
        _delete_job(ctx, job["metadata"]["namespace"], job["metadata"]["name"])
    return True


def _delete_job(ctx: OperatorContext, namespace: str, name: str) -> None:
    try:
        ctx.batch.delete_namespaced_job(name, namespace, body=client.V1DeleteOptions(propagation_policy="Background"))
    except ApiException as error:
        if error.status != 404:
            raise


def _patch_if_present(
    ctx: OperatorContext, namespace: str, name: str, compute: Callable[[dict[str, Any]], Status | None]
) -> None:
    try:
        patch_status(ctx.api, plural=JOBS, namespace=namespace, name=name, compute=compute)
    except ApiException as error:
        if error.status != 404:  # the lifecycle job is gone: nothing to show it on
            raise
