"""Store records -> response schemas: durations, human sizes, storage cost and the
deleted-outputs rules (a deleted run's outputs show `Deleted` and cost nothing)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import TypedDict

from tracker.api import schemas
from tracker.domain import conditions
from tracker.domain.cost import TierPrices, annual_storage_cost, human_size
from tracker.domain.records import JobRecord, OutputObject, OutputsSummary, RunRecord
from tracker.store.results import OutputDirectory, OutputFile, OutputMatch, RunExecution

DELETED = "Deleted"


class _SummaryFields(TypedDict):
    """The fields a run summary and a run detail share."""

    id: str
    namespace: str
    name: str
    run_name: str
    owner: str
    cluster: str | None
    engine: str | None
    phase: str | None
    state: str | None
    labels: dict[str, str]
    output_dir: str | None
    created_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    last_heartbeat_at: datetime | None
    duration_seconds: float | None
    cost: float | None
    outputs: schemas.OutputsInfo
    archived: bool
    archived_at: datetime | None


class _FileFields(TypedDict):
    """The fields an output file and an output match share."""

    url: str
    path: str | None
    size: int
    human_size: str
    last_modified: datetime | None
    etag: str | None
    storage_class: str | None
    deleted: bool
    deleted_at: datetime | None


def duration(started: datetime | None, completed: datetime | None, now: datetime) -> float | None:
    """Seconds from start to completion, or to `now` while unfinished."""
    if started is None:
        return None
    return max(0.0, ((completed or now) - started).total_seconds())


def outputs_info(summary: OutputsSummary, prices: TierPrices) -> schemas.OutputsInfo:
    deleted = summary.deleted_at is not None
    size = 0 if deleted else max(summary.bytes, 0)
    cost = annual_storage_cost(size, prices)
    return schemas.OutputsInfo(
        count=0 if deleted else summary.count,
        bytes=size,
        size=DELETED if deleted else human_size(size),
        annual_cost_low=cost.annual_low,
        annual_cost_high=cost.annual_high,
        annual_cost_by_tier=schemas.TierCosts(
            frequent=cost.frequent, infrequent=cost.infrequent, archive_instant=cost.archive_instant
        ),
        indexed_at=summary.indexed_at,
        deleted=deleted,
        deleted_at=summary.deleted_at,
        deleted_by=summary.deleted_by,
    )


def run_summary(run: RunRecord, summary: OutputsSummary, prices: TierPrices, now: datetime) -> schemas.RunSummary:
    return schemas.RunSummary(**_summary_fields(run, summary, prices, now))


def run_detail(
    run: RunRecord,
    summary: OutputsSummary,
    executions: list[RunExecution],
    prices: TierPrices,
    now: datetime,
) -> schemas.RunDetail:
    current = (
        [
            schemas.Execution(
                current=True,
                started_at=run.started_at,
                completed_at=run.completed_at,
                duration_seconds=duration(run.started_at, run.completed_at, now),
                phase=run.phase,
                error_message=run.error_message,
                cost=run.cost,
                session_id=run.session_id,
            )
        ]
        if run.started_at is not None
        else []
    )
    previous = [
        schemas.Execution(
            current=False,
            started_at=e.started_at,
            completed_at=e.completed_at,
            duration_seconds=duration(e.started_at, e.completed_at, now) if e.completed_at else None,
            phase=e.phase,
            error_message=e.error_message,
            cost=e.cost,
            session_id=e.session_id,
        )
        for e in executions
    ]
    return schemas.RunDetail(
        **_summary_fields(run, summary, prices, now),
        workflow=schemas.Workflow(repository=run.repository, revision=run.revision, commit=run.commit),
        work_dir=run.work_dir,
        session_id=run.session_id,
        command_line=run.command_line,
        params=run.params or {},
        config_text=run.config_text,
        error_message=run.error_message,
        peak_concurrency=run.peak_concurrency,
        disconnected=conditions.is_true(run.conditions or [], "Disconnected"),
        stalled=conditions.is_true(run.conditions or [], "Stalled"),
        conditions=[condition(c) for c in run.conditions or [] if isinstance(c, dict)],
        processes=processes(run),
        executions=current + previous,
    )


def condition(c: dict[str, object]) -> schemas.Condition:
    text = {
        key: None if c.get(key) is None else str(c.get(key))
        for key in ("type", "status", "reason", "message", "lastTransitionTime")
    }
    return schemas.Condition(
        type=text["type"],
        status=text["status"],
        reason=text["reason"],
        message=text["message"],
        last_transition_time=text["lastTransitionTime"],
    )


def processes(run: RunRecord) -> list[schemas.Process]:
    return [
        schemas.Process(
            name=p.name,
            succeeded=p.succeeded,
            failed=p.failed,
            aborted=p.aborted,
            running=p.running,
            cached=p.cached,
            retried=p.retried,
            submitted=p.submitted,
            pending=p.pending,
        )
        for p in run.processes
    ]


def _summary_fields(run: RunRecord, summary: OutputsSummary, prices: TierPrices, now: datetime) -> _SummaryFields:
    return {
        "id": run.id,
        "namespace": run.namespace,
        "name": run.name,
        "run_name": run.run_name,
        "owner": run.owner,
        "cluster": run.cluster,
        "engine": run.engine,
        "phase": run.phase,
        "state": run.state,
        "labels": dict(run.labels or {}),
        "output_dir": run.output_dir,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "last_heartbeat_at": run.last_heartbeat_at,
        "duration_seconds": duration(run.started_at, run.completed_at, now),
        "cost": run.cost,
        "outputs": outputs_info(summary, prices),
        "archived": run.archived_at is not None,
        "archived_at": run.archived_at,
    }


def relative(url: str, output_dir: str | None) -> str | None:
    if output_dir and url.startswith(output_dir):
        return url[len(output_dir) :]
    return None


def output_file(obj: OutputObject, deleted_at: datetime | None, output_dir: str | None) -> schemas.OutputFile:
    return schemas.OutputFile(**_file_fields(obj, deleted_at, output_dir))


def output_files(files: list[OutputFile], output_dir: str | None) -> list[schemas.OutputFile]:
    return [output_file(f.object, f.deleted_at, output_dir) for f in files]


def output_directory(directory: OutputDirectory, parent: str) -> schemas.OutputDirectory:
    return schemas.OutputDirectory(
        name=directory.name,
        path=parent + directory.name,
        count=directory.count,
        bytes=directory.bytes,
        human_size=human_size(directory.bytes),
        deleted=directory.deleted,
    )


def output_match(match: OutputMatch) -> schemas.OutputMatch:
    return schemas.OutputMatch(
        run_id=match.run_id, run_name=match.run_name, **_file_fields(match.object, match.deleted_at, None)
    )


def _file_fields(obj: OutputObject, deleted_at: datetime | None, output_dir: str | None) -> _FileFields:
    return {
        "url": obj.url,
        "path": relative(obj.url, output_dir),
        "size": obj.size,
        "human_size": human_size(obj.size),
        "last_modified": obj.last_modified,
        "etag": obj.etag,
        "storage_class": obj.storage_class,
        "deleted": deleted_at is not None,
        "deleted_at": deleted_at,
    }


def job(record: JobRecord) -> schemas.Job:
    return schemas.Job(
        id=record.id,
        namespace=record.namespace,
        name=record.name,
        run=record.run,
        run_id=record.run_id,
        operation=str(record.operation),
        destination=record.destination,
        source=record.source,
        requested_by=record.requested_by,
        requested_by_groups=list(record.requested_by_groups),
        dry_run=record.dry_run,
        phase=str(record.phase),
        reason=record.reason,
        message=record.message,
        created_at=record.created_at,
        started_at=record.started_at,
        completed_at=record.completed_at,
        kubernetes_job=record.kubernetes_job,
        counters=schemas.JobCounters(**dataclasses.asdict(record.counters)),
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
