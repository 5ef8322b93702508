"""Plain records that cross layers: what the operator, worker, API and CLI agree on.

They mirror the custom resources' fields in snake_case and carry no behaviour beyond
small derived properties, so the store, the API schemas and the tests can share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    """A run's phase as its runner reports it."""

    SUBMITTED = "Submitted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ABORTED = "Aborted"

    @property
    def terminal(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED, Phase.ABORTED)


class Operation(StrEnum):
    """What an OutputLifecycleJob does."""

    DELETE_OUTPUTS = "delete_outputs"
    MOVE_OUTPUTS = "move_outputs"
    MARK_OUTPUTS_DELETED = "mark_outputs_deleted"
    REWRITE_OUTPUT_PATHS = "rewrite_output_paths"
    INDEX_OUTPUTS = "index_outputs"

    @property
    def touches_s3(self) -> bool:
        return self in (Operation.DELETE_OUTPUTS, Operation.MOVE_OUTPUTS, Operation.INDEX_OUTPUTS)

    @property
    def mutating(self) -> bool:
        """Changes the run's outputs (so at most one may be active per run)."""
        return self is not Operation.INDEX_OUTPUTS


class JobPhase(StrEnum):
    ENQUEUED = "Enqueued"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def finished(self) -> bool:
        return self in (JobPhase.SUCCEEDED, JobPhase.FAILED)


@dataclass(frozen=True)
class ProcessCounts:
    """Task counts of one workflow process (a Nextflow process, a WDL call)."""

    name: str
    succeeded: int = 0
    failed: int = 0
    aborted: int = 0
    running: int = 0
    cached: int = 0
    retried: int = 0
    submitted: int = 0
    pending: int = 0

    @property
    def active(self) -> int:
        """Tasks not yet terminal."""
        return self.running + self.submitted + self.pending

    @property
    def seen(self) -> int:
        return self.active + self.succeeded + self.failed + self.aborted + self.cached


@dataclass(frozen=True)
class OutputsSummary:
    """What the index knows of a run's published outputs."""

    count: int = 0
    bytes: int = 0
    indexed_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """A WorkflowRun as the index stores it (spec, reported status, derived state)."""

    id: str
    namespace: str
    name: str
    run_name: str
    owner: str
    cluster: str | None = None
    engine: str | None = None
    repository: str | None = None
    revision: str | None = None
    commit: str | None = None
    work_dir: str | None = None
    output_dir: str | None = None
    session_id: str | None = None
    command_line: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    config_text: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    phase: str | None = None
    state: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    last_heartbeat_at: datetime | None = None
    error_message: str | None = None
    peak_concurrency: int | None = None
    cost: float | None = None
    conditions: list[dict[str, Any]] = field(default_factory=list)
    processes: tuple[ProcessCounts, ...] = ()
    archived_at: datetime | None = None  # the archiver removed the resource; the index keeps the run


@dataclass(frozen=True)
class OutputObject:
    """One published S3 object."""

    url: str
    size: int
    last_modified: datetime | None = None
    etag: str | None = None
    storage_class: str | None = None


@dataclass(frozen=True)
class JobCounters:
    """A job's counters: the one list the CRD status, the index columns, the API and the
    CLI derive theirs from (camelCase on resources, e.g. `objectsToDelete`).

    A dry run changes nothing and counts what would change in the `*_to_*` counters."""

    objects_deleted: int = 0
    bytes_deleted: int = 0
    objects_copied: int = 0
    bytes_copied: int = 0
    rows_rewritten: int = 0
    rows_marked_deleted: int = 0
    objects_indexed: int = 0
    objects_to_delete: int = 0
    bytes_to_delete: int = 0
    objects_to_move: int = 0
    bytes_to_move: int = 0


def camel(name: str) -> str:
    """`objects_to_delete` -> `objectsToDelete` (the resources' spelling of a field)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True)
class JobRecord:
    """An OutputLifecycleJob's history row; outlives the custom resource."""

    id: str
    namespace: str
    name: str
    run: str
    operation: str
    requested_by: str
    run_id: str | None = None
    destination: str | None = None
    source: str | None = None  # the run's outputDir the job acted on
    requested_by_groups: tuple[str, ...] = ()
    dry_run: bool = False
    phase: str = JobPhase.ENQUEUED
    reason: str | None = None
    message: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    kubernetes_job: str | None = None
    counters: JobCounters = JobCounters()
