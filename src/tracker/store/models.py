"""SQLAlchemy table models of the index. Private to `tracker.store`: repository
functions take and return `tracker.domain.records` dataclasses, never these rows.

The schema itself is created by the Alembic migrations in `migrations/`; a test
checks that these models and the migrations agree. The substring-search structures are
engine-specific and live only in the migrations: SQLite's FTS5 table `outputs_fts`
with its triggers, PostgreSQL's pg_trgm GIN index `ix_outputs_url_trgm`; so does the
partial index `ix_outputs_inner_scheme` (migration 0009).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tracker.store.types import BigId, Json, UrlText, UTCDateTime, utcnow

NAME = String(253)  # a Kubernetes object name / namespace
ID = String(36)  # a UUID in its canonical text form


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        # Run names are unique per namespace among live runs; a removed run keeps its name.
        Index(
            "uq_runs_live_namespace_run_name",
            "namespace",
            "run_name",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
        Index("ix_runs_run_name", "run_name"),
        Index("ix_runs_namespace_name", "namespace", "name"),
        Index("ix_runs_created_at", "created_at"),
        Index("ix_runs_state", "state"),
        Index("ix_runs_owner", "owner"),
        Index("ix_runs_cluster", "cluster"),
        Index("ix_runs_archived_at", "archived_at"),
        # The archiver's candidates: live runs by completion time.
        Index(
            "ix_runs_live_completed_at",
            "completed_at",
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    namespace: Mapped[str] = mapped_column(NAME)
    name: Mapped[str] = mapped_column(NAME)
    run_name: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(255))
    cluster: Mapped[str | None] = mapped_column(String(255))
    engine: Mapped[str | None] = mapped_column(String(32))
    repository: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[str | None] = mapped_column(Text)
    commit_hash: Mapped[str | None] = mapped_column(String(128))
    work_dir: Mapped[str | None] = mapped_column(UrlText)
    output_dir: Mapped[str | None] = mapped_column(UrlText)
    session_id: Mapped[str | None] = mapped_column(String(128))
    command_line: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    config_text: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[dict[str, str]] = mapped_column(Json, default=dict)
    phase: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    last_heartbeat_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    peak_concurrency: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[float | None] = mapped_column(Float)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    outputs_count: Mapped[int] = mapped_column(BigInteger, default=0)
    outputs_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    outputs_indexed_at: Mapped[datetime | None]
    outputs_deleted_at: Mapped[datetime | None]
    outputs_deleted_by: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]  # the resource was deleted; the row stays
    archived_at: Mapped[datetime | None]  # the archiver deleted the resource (removed_at follows)


class RunExecution(Base):
    """A previous execution of a resumed run (the current one is on the run)."""

    __tablename__ = "run_executions"
    __table_args__ = (UniqueConstraint("run_id", "started_at", name="uq_run_executions_run_started"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(128))
    phase: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    cost: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Process(Base):
    __tablename__ = "processes"

    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(Text, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    aborted: Mapped[int] = mapped_column(Integer, default=0)
    running: Mapped[int] = mapped_column(Integer, default=0)
    cached: Mapped[int] = mapped_column(Integer, default=0)
    retried: Mapped[int] = mapped_column(Integer, default=0)
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)


class Output(Base):
    """One published S3 object; marked deleted, never removed, when it is deleted."""

    __tablename__ = "outputs"
    __table_args__ = (
        UniqueConstraint("run_id", "url", name="uq_outputs_run_url"),
        Index("ix_outputs_url", "url", "run_id"),  # run_id: the runs under a URL range, from the index alone
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(UrlText)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    last_modified: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(Text)
    storage_class: Mapped[str | None] = mapped_column(String(64))
    seen_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class LifecycleJob(Base):
    """An OutputLifecycleJob's history; outlives its custom resource."""

    __tablename__ = "lifecycle_jobs"
    __table_args__ = (
        Index("ix_lifecycle_jobs_run_id_created_at", "run_id", "created_at"),
        Index("ix_lifecycle_jobs_created_at", "created_at"),
        Index("ix_lifecycle_jobs_phase", "phase"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    namespace: Mapped[str] = mapped_column(NAME)
    name: Mapped[str] = mapped_column(NAME)
    run: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(ID)
    operation: Mapped[str] = mapped_column(String(32))
    destination: Mapped[str | None] = mapped_column(UrlText)
    source: Mapped[str | None] = mapped_column(UrlText)
    requested_by: Mapped[str] = mapped_column(String(255))
    requested_by_groups: Mapped[list[str]] = mapped_column(Json, default=list)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    phase: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    kubernetes_job: Mapped[str | None] = mapped_column(NAME)
    objects_deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    objects_copied: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_copied: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_rewritten: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_marked_deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    objects_indexed: Mapped[int] = mapped_column(BigInteger, default=0)
    objects_to_delete: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_to_delete: Mapped[int] = mapped_column(BigInteger, default=0)
    objects_to_move: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_to_move: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeleteBatch(Base):
    """The worker's journal of DeleteObjects batches: written before a batch is sent,
    settled with what S3 deleted. A batch left unsettled by a killed worker is
    reconciled by the next attempt, so a job's counters stay exact."""

    __tablename__ = "delete_batches"

    job_id: Mapped[str] = mapped_column(ID, primary_key=True)
    batch_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(63))
    targets: Mapped[list[Any]] = mapped_column(Json)  # [[key, size, version_id, is_object], ...]
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    objects: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)


class TraceWorkflow(Base):
    """A workflow id the trace receiver handed to a runner (one per execution: a
    resumed run gets a new one) and the run it reports on. `reported` holds the
    spec and status the receiver derived so far."""

    __tablename__ = "trace_workflows"
    __table_args__ = (Index("ix_trace_workflows_namespace_session", "namespace", "session_id"),)

    workflow_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    run_id: Mapped[str] = mapped_column(ID)
    namespace: Mapped[str] = mapped_column(NAME)
    name: Mapped[str] = mapped_column(NAME)
    owner: Mapped[str] = mapped_column(String(255))
    session_id: Mapped[str | None] = mapped_column(String(128))
    reported: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Task(Base):
    """One task attempt of a run, keyed by the run, the execution that reported it
    and the runner's task id. No foreign key to `runs`: a runner's first tasks can
    arrive before the operator indexes the run."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_run_id_process", "run_id", "process"),
        Index("ix_tasks_run_id_status", "run_id", "status"),
    )

    run_id: Mapped[str] = mapped_column(ID, primary_key=True)
    execution: Mapped[str] = mapped_column(String(16), primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(Text)
    process: Mapped[str | None] = mapped_column(Text)
    tag: Mapped[str | None] = mapped_column(Text)
    hash: Mapped[str | None] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    native_id: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    realtime_ms: Mapped[int | None] = mapped_column(BigInteger)
    cpus: Mapped[int | None] = mapped_column(Integer)
    memory_bytes: Mapped[int | None] = mapped_column(BigInteger)
    time_ms: Mapped[int | None] = mapped_column(BigInteger)
    pcpu: Mapped[float | None] = mapped_column(Float)
    peak_rss: Mapped[int | None] = mapped_column(BigInteger)
    read_bytes: Mapped[int | None] = mapped_column(BigInteger)
    write_bytes: Mapped[int | None] = mapped_column(BigInteger)
    exit_code: Mapped[int | None] = mapped_column(BigInteger)
    error_action: Mapped[str | None] = mapped_column(String(16))
    work_dir: Mapped[str | None] = mapped_column(UrlText)
    executor: Mapped[str | None] = mapped_column(String(64))
    machine_type: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Note(Base):
    """A note on a run, with its current text; earlier texts are its revisions."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_run_id_created_at", "run_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ID, ForeignKey("runs.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]


class NoteRevision(Base):
    """A text a note had before an edit: who wrote it and when."""

    __tablename__ = "note_revisions"
    __table_args__ = (Index("ix_note_revisions_note_id", "note_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    note_id: Mapped[int] = mapped_column(BigId, ForeignKey("notes.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(255))
    written_at: Mapped[datetime]
