"""Kubernetes objects the operator creates, built by pure functions (no API calls).

Secrets are only ever referenced (`secretKeyRef`, `envFrom`), never copied into a spec;
worker Jobs run in the tracker's own namespace, where those Secrets live.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import make_url

from tracker.domain.shards import KeyRange
from tracker.kube.resources import (
    API_VERSION,
    JOB_KIND,
    LABEL_COMPONENT,
    LABEL_LIFECYCLE_JOB,
    LABEL_LIFECYCLE_JOB_NAMESPACE,
    LABEL_LIFECYCLE_JOB_UID,
    LABEL_OPERATION,
    LABEL_PART_OF,
    LABEL_RUN_ID,
    PART_OF,
    RUN_KIND,
)
from tracker.settings import Settings

Manifest = dict[str, Any]


class UnsafeConfiguration(ValueError):
    """The settings would put a secret into a pod spec."""


def lifecycle_job_resource(
    *,
    namespace: str,
    run_name: str,
    operation: str,
    requested_by: str,
    requested_by_groups: tuple[str, ...] = (),
    destination: str | None = None,
    dry_run: bool = False,
    name: str | None = None,
    generate_name: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Manifest:
    """An OutputLifecycleJob custom resource."""
    metadata: Manifest = {"namespace": namespace, "labels": dict(labels or {})}
    if name:
        metadata["name"] = name
    else:
        metadata["generateName"] = generate_name or f"{operation.replace('_', '-')}-"
    spec: Manifest = {"run": run_name, "operation": operation, "requestedBy": requested_by}
    if requested_by_groups:
        spec["requestedByGroups"] = list(requested_by_groups)
    if destination:
        spec["destination"] = destination
    if dry_run:
        spec["dryRun"] = True
    return {"apiVersion": API_VERSION, "kind": JOB_KIND, "metadata": metadata, "spec": spec}


def requested_job_resource(
    *,
    namespace: str,
    run_ref: str,
    run_resource_name: str | None,
    operation: str,
    requested_by: str,
    requested_by_groups: tuple[str, ...] = (),
    destination: str | None = None,
    dry_run: bool = False,
) -> Manifest:
    """The OutputLifecycleJob a user requests (the CLI's lifecycle commands, the page's
    Actions menu): named after the run's object (`<name>-delete-xxxxx`), as that user."""
    base = (run_resource_name[:40] + "-") if run_resource_name else ""
    return lifecycle_job_resource(
        namespace=namespace,
        run_name=run_ref,
        operation=operation,
        requested_by=requested_by,
        requested_by_groups=requested_by_groups,
        destination=destination,
        dry_run=dry_run,
        generate_name=f"{base}{operation.replace('_outputs', '').replace('_', '-')}-",
    )


def index_job_name(run_resource_name: str, execution_marker: str) -> str:
    """A stable name for the index job of one execution of a run (creating it twice is a no-op)."""
    digest = hashlib.sha256(execution_marker.encode()).hexdigest()[:8]
    return f"{run_resource_name[:230]}-index-{digest}"


def worker_job_name(job_id: str, operation: str) -> str:
    return f"tracker-{operation.replace('_', '-')}-{job_id[:8]}"


def worker_environment(settings: Settings) -> list[Manifest]:
    """The worker's environment: settings it needs, secrets by reference only."""
    worker = settings.worker
    env: list[Manifest] = []
    if worker.database_secret:
        env.append(
            {
                "name": "TRACKER_DATABASE_URL",
                "valueFrom": {"secretKeyRef": {"name": worker.database_secret, "key": worker.database_secret_key}},
            }
        )
    elif make_url(settings.database_url).password is not None:
        raise UnsafeConfiguration(
            "the database URL holds a password: set worker.database_secret so worker pods read it from a Secret"
        )
    else:
        env.append({"name": "TRACKER_DATABASE_URL", "value": settings.database_url})
    if settings.s3.endpoint_url:
        env.append({"name": "TRACKER_S3__ENDPOINT_URL", "value": settings.s3.endpoint_url})
    env.append({"name": "TRACKER_S3__REGION", "value": settings.s3.region})
    env.append({"name": "AWS_DEFAULT_REGION", "value": settings.s3.region})
    for tier, price in (
        ("FREQUENT", settings.prices.frequent),
        ("INFREQUENT", settings.prices.infrequent),
        ("ARCHIVE_INSTANT", settings.prices.archive_instant),
    ):
        env.append({"name": f"TRACKER_PRICES__{tier}", "value": str(price)})
    env += [{"name": k, "value": v} for k, v in sorted(worker.extra_env.items())]
    return env


def worker_labels(lifecycle_job: Mapping[str, Any], run_id: str) -> dict[str, str]:
    """The labels of a worker Job and its pods: which lifecycle job (namespace, name, uid) they serve."""
    metadata = lifecycle_job["metadata"]
    return {
        LABEL_LIFECYCLE_JOB: metadata["name"],
        LABEL_LIFECYCLE_JOB_NAMESPACE: metadata["namespace"],
        LABEL_LIFECYCLE_JOB_UID: metadata["uid"],
        LABEL_OPERATION: lifecycle_job["spec"]["operation"],
        LABEL_RUN_ID: run_id,
        LABEL_COMPONENT: "worker",
        LABEL_PART_OF: PART_OF,
    }


def shard_args(ranges: Sequence[KeyRange]) -> list[str]:
    """The worker's arguments naming its shard: the pod's completion index (the Job
    controller sets JOB_COMPLETION_INDEX) and every shard's key range, as JSON with `$`
    doubled (the kubelet expands `$(VAR)` in arguments; `$$` is a literal `$`)."""
    encoded = json.dumps([r.to_json() for r in ranges], ensure_ascii=False, separators=(",", ":"))
    return ["--shard-index", "$(JOB_COMPLETION_INDEX)", "--shard-ranges", encoded.replace("$", "$$")]


def worker_job(
    *,
    lifecycle_job: Mapping[str, Any],
    namespace: str,
    run_id: str,
    settings: Settings,
    shards: Sequence[KeyRange] = (),
) -> Manifest:
    """The batch/v1 Job, in `namespace` (the tracker's), that runs the worker for one
    OutputLifecycleJob, named to it by labels and by the worker's arguments. With
    `shards`, an Indexed Job of one pod per key range, all at once; a shard's pod is
    retried `backoff_limit` times and one shard failing for good fails the Job."""
    metadata = lifecycle_job["metadata"]
    operation = lifecycle_job["spec"]["operation"]
    worker = settings.worker
    labels = worker_labels(lifecycle_job, run_id)
    args = ["--namespace", metadata["namespace"], "--job", metadata["name"], "--uid", metadata["uid"]]
    container: Manifest = {
        "name": "worker",
        "image": worker.image,
        "imagePullPolicy": worker.image_pull_policy,
        "command": ["tracker-worker"],
        "args": [*args, *shard_args(shards)] if shards else args,
        "env": worker_environment(settings),
        "resources": {
            "requests": {"cpu": worker.cpu_request, "memory": worker.memory_request},
            "limits": {"memory": worker.memory_limit},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if worker.s3_credentials_secret:
        container["envFrom"] = [{"secretRef": {"name": worker.s3_credentials_secret}}]
    retries: Manifest = {"backoffLimit": worker.backoff_limit}
    if shards:
        retries = {
            "completionMode": "Indexed",
            "completions": len(shards),
            "parallelism": len(shards),
            "backoffLimitPerIndex": worker.backoff_limit,
            "maxFailedIndexes": 0,
        }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": worker_job_name(metadata["uid"], operation),
            "namespace": namespace,
            "labels": labels,
        },
        "spec": {
            **retries,
            "activeDeadlineSeconds": worker.active_deadline_seconds,
            "ttlSecondsAfterFinished": worker.ttl_seconds_after_finished,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": worker.service_account,
                    "restartPolicy": "Never",
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                },
            },
        },
    }


def workflow_run_resource(*, namespace: str, name: str, spec: Mapping[str, Any]) -> Manifest:
    """A WorkflowRun created for a runner that reports itself (the trace receiver).
    Its run id will be its `metadata.uid` (the operator's default), so the receiver
    knows it from the create answer and indexes task rows under it at once."""
    return {
        "apiVersion": API_VERSION,
        "kind": RUN_KIND,
        "metadata": {"name": name, "namespace": namespace, "labels": {LABEL_PART_OF: PART_OF}},
        "spec": dict(spec),
    }
