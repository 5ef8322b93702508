"""Custom-resource bodies (plain dicts, camelCase) to domain records and back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from tracker.domain.conditions import parse_time, rfc3339
from tracker.domain.cost import StorageCost, human_size
from tracker.domain.records import (
    JobCounters,
    JobRecord,
    OutputsSummary,
    Phase,
    ProcessCounts,
    RunRecord,
    camel,
)
from tracker.domain.runhealth import RunSignals
from tracker.kube.resources import ANNOTATION_ARCHIVED_AT, API_VERSION, RUN_KIND
from tracker.settings import ThresholdSettings

Body = Mapping[str, Any]
_COUNTS = ("succeeded", "failed", "aborted", "running", "cached", "retried", "submitted", "pending")
_COUNTERS = {camel(f.name): f.name for f in fields(JobCounters)}


def processes(status: Mapping[str, Any]) -> tuple[ProcessCounts, ...]:
    return tuple(
        ProcessCounts(name=p["name"], **{k: int(p.get(k) or 0) for k in _COUNTS}) for p in status.get("processes") or ()
    )


def phase(status: Mapping[str, Any]) -> Phase | None:
    value = status.get("phase")
    return Phase(value) if value else None


def run_signals(body: Body, thresholds: ThresholdSettings) -> RunSignals:
    spec, status = body.get("spec") or {}, body.get("status") or {}
    created = parse_time(body["metadata"].get("creationTimestamp")) or datetime.now(UTC)
    return RunSignals(
        phase=phase(status),
        created_at=created,
        last_heartbeat=parse_time(status.get("lastHeartbeatTime")),
        processes=processes(status),
        tasks_terminal_since=parse_time(status.get("tasksTerminalSince")),
        heartbeat_timeout=timedelta(
            seconds=spec.get("heartbeatTimeoutSeconds") or thresholds.heartbeat_timeout_seconds
        ),
        stalled_after=timedelta(seconds=spec.get("stalledAfterSeconds") or thresholds.stalled_after_seconds),
    )


def run_record(body: Body) -> RunRecord:
    """The index's view of a WorkflowRun (which must already have its id)."""
    metadata, spec, status = body["metadata"], body.get("spec") or {}, body.get("status") or {}
    workflow = spec.get("workflow") or {}
    return RunRecord(
        id=status["id"],
        namespace=metadata["namespace"],
        name=metadata["name"],
        run_name=spec["runName"],
        owner=spec["owner"],
        cluster=spec.get("cluster"),
        engine=spec.get("engine"),
        repository=workflow.get("repository"),
        revision=workflow.get("revision"),
        commit=workflow.get("commit"),
        work_dir=spec.get("workDir"),
        output_dir=spec.get("outputDir"),
        session_id=spec.get("sessionId"),
        command_line=spec.get("commandLine"),
        params=dict(spec.get("params") or {}),
        config_text=spec.get("configText"),
        labels=dict(metadata.get("labels") or {}),
        phase=status.get("phase"),
        state=status.get("state"),
        created_at=parse_time(metadata.get("creationTimestamp")),
        started_at=parse_time(status.get("startedAt")),
        completed_at=parse_time(status.get("completedAt")),
        last_heartbeat_at=parse_time(status.get("lastHeartbeatTime")),
        error_message=status.get("errorMessage"),
        peak_concurrency=status.get("peakConcurrency"),
        cost=status.get("cost"),
        conditions=list(status.get("conditions") or []),
        processes=processes(status),
    )


def archived_run_body(record: RunRecord, summary: OutputsSummary) -> dict[str, Any]:
    """The WorkflowRun an archived run was, rebuilt from the index (what admission and
    the worker read of a run), marked with ANNOTATION_ARCHIVED_AT."""
    return {
        "apiVersion": API_VERSION,
        "kind": RUN_KIND,
        "metadata": {
            "namespace": record.namespace,
            "name": record.name,
            "labels": dict(record.labels),
            "annotations": {ANNOTATION_ARCHIVED_AT: rfc3339(record.archived_at) if record.archived_at else ""},
        },
        "spec": {
            "runName": record.run_name,
            "owner": record.owner,
            "cluster": record.cluster,
            "outputDir": record.output_dir,
        },
        "status": {
            "id": record.id,
            "phase": record.phase,
            "outputs": {"deletedAt": rfc3339(summary.deleted_at) if summary.deleted_at else None},
        },
    }


def is_archived(body: Body) -> bool:
    """Whether the run body was rebuilt from the index (`archived_run_body`)."""
    return ANNOTATION_ARCHIVED_AT in ((body.get("metadata") or {}).get("annotations") or {})


def outputs_status(summary: OutputsSummary, cost: StorageCost) -> dict[str, Any]:
    """The run's `status.outputs` stanza for an outputs summary."""
    stanza: dict[str, Any] = {
        "count": summary.count,
        "bytes": summary.bytes,
        "annualCostLow": round(cost.annual_low, 4),
        "annualCostHigh": round(cost.annual_high, 4),
        "size": "Deleted" if summary.deleted_at else human_size(summary.bytes),
    }
    if summary.indexed_at:
        stanza["indexedAt"] = rfc3339(summary.indexed_at)
    if summary.deleted_at:
        stanza.update(
            deletedAt=rfc3339(summary.deleted_at), deletedBy=summary.deleted_by, annualCostLow=0, annualCostHigh=0
        )
    return stanza


def job_record(body: Body) -> JobRecord:
    """The jobs table's view of an OutputLifecycleJob (which must already have its id)."""
    metadata, spec, status = body["metadata"], body.get("spec") or {}, body.get("status") or {}
    return JobRecord(
        id=status["jobId"],
        namespace=metadata["namespace"],
        name=metadata["name"],
        run=spec["run"],
        operation=spec["operation"],
        requested_by=spec["requestedBy"],
        run_id=status.get("runId"),
        destination=spec.get("destination"),
        source=status.get("source"),
        requested_by_groups=tuple(spec.get("requestedByGroups") or ()),
        dry_run=bool(spec.get("dryRun")),
        phase=status.get("phase") or "Enqueued",
        reason=status.get("reason"),
        message=status.get("message"),
        created_at=parse_time(metadata.get("creationTimestamp")),
        started_at=parse_time(status.get("startedAt")),
        completed_at=parse_time(status.get("completedAt")),
        kubernetes_job=status.get("kubernetesJob"),
        counters=JobCounters(**{field: int(status.get(key) or 0) for key, field in _COUNTERS.items()}),
    )


def counters_status(counters: JobCounters) -> dict[str, int]:
    return {key: getattr(counters, field) for key, field in _COUNTERS.items()}
