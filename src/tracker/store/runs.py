"""Runs in the index: upsert from the custom resource, lookup by id or run name,
filtered listing, resume history and the outputs summary.

`upsert_run` writes everything a `RunRecord` carries and replaces the run's process
table; the outputs summary columns belong to the output functions and are never
touched by it. `report_progress` changes only what a runner's progress report
carries (heartbeat, peak concurrency, processes); `record_heartbeats` moves many runs'
heartbeats forward in one statement. Runs are never removed from the
index: when the resource is deleted, `mark_run_removed` records it, and a WorkflowRun
re-created under that run name is a new run (a new id) beside the old one. A run the
archiver removed (`tracker.store.archive`) has `archived_at` too, and is found as a
removed run is.

Run names: a run id always finds its run. A run name finds the live run of that name
(in the namespace given, or in the only namespace using it); when no live run has it,
the one removed run that had it. Several candidates raise `AmbiguousRun` naming their
namespaces and ids: use the run id (or the namespace).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session

from tracker.domain.archive import TERMINAL_PHASES
from tracker.domain.records import OutputsSummary, ProcessCounts, RunRecord
from tracker.store.dialects import dialect_of, insert, position
from tracker.store.errors import AmbiguousRun, DuplicateRunName, RunCandidate, RunNotFound
from tracker.store.models import Process, Run, RunExecution
from tracker.store.results import RunExecution as Execution
from tracker.store.types import plain, rowcount, utcnow

SORT_KEYS = (
    "created_at",
    "started_at",
    "completed_at",
    "updated_at",
    "last_heartbeat_at",
    "run_name",
    "name",
    "namespace",
    "owner",
    "cluster",
    "state",
    "phase",
    "cost",
    "outputs_bytes",
    "outputs_count",
)
COUNTS = ("succeeded", "failed", "aborted", "running", "cached", "retried", "submitted", "pending")
_FIELDS = (
    "namespace",
    "name",
    "run_name",
    "owner",
    "cluster",
    "engine",
    "repository",
    "revision",
    "work_dir",
    "output_dir",
    "session_id",
    "command_line",
    "params",
    "config_text",
    "labels",
    "phase",
    "state",
    "started_at",
    "completed_at",
    "last_heartbeat_at",
    "error_message",
    "peak_concurrency",
    "cost",
    "conditions",
)
_LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def upsert_run(session: Session, *, record: RunRecord) -> None:
    """Insert or update the run and replace its processes. When `started_at` moves
    forward (a resumed run), the previous execution is kept in `run_executions`."""
    clash = session.scalar(
        select(Run.id).where(
            Run.namespace == record.namespace,
            Run.run_name == record.run_name,
            Run.id != record.id,
            Run.removed_at.is_(None),
        )
    )
    if clash is not None:
        raise DuplicateRunName(record.namespace, record.run_name, clash)
    previous = session.execute(
        select(Run.started_at, Run.phase, Run.completed_at, Run.error_message, Run.cost, Run.session_id).where(
            Run.id == record.id
        )
    ).one_or_none()
    now = utcnow()
    values: dict[str, Any] = {f: plain(getattr(record, f)) for f in _FIELDS}
    values.update(commit_hash=record.commit, updated_at=now, removed_at=None)
    if not _terminal(record.phase):
        values["archived_at"] = None  # resumed: live again (an archived run's last events are terminal)
    updates = dict(values, **({"created_at": record.created_at} if record.created_at else {}))
    fresh = dict(values, id=record.id, created_at=record.created_at or now, outputs_count=0, outputs_bytes=0)
    session.execute(insert(session, Run).values(fresh).on_conflict_do_update(index_elements=[Run.id], set_=updates))
    if previous is not None and _resumed(previous.started_at, record.started_at):
        session.execute(
            insert(session, RunExecution)
            .values(
                run_id=record.id,
                session_id=previous.session_id,
                phase=previous.phase,
                started_at=previous.started_at,
                completed_at=previous.completed_at,
                error_message=previous.error_message,
                cost=previous.cost,
                recorded_at=now,
            )
            .on_conflict_do_nothing(index_elements=["run_id", "started_at"])
        )
    _replace_processes(session, record.id, record.processes)


def report_progress(
    session: Session,
    *,
    run_id: str,
    last_heartbeat_at: datetime | None,
    peak_concurrency: int | None = None,
    processes: Iterable[ProcessCounts] | None = None,
) -> bool:
    """What a runner's progress report changes, without rewriting the run: the heartbeat
    moves forward (never back), peak concurrency is set when given, and the processes
    are replaced when given and different. False when the run is not in the index."""
    connection = session.connection()  # Core, not the ORM: this runs on every report
    before = connection.execute(_LAST_HEARTBEAT, {"run_id": run_id}).one_or_none()
    if before is None:
        return False
    values: dict[str, Any] = {"updated_at": utcnow()}
    if last_heartbeat_at is not None and (before[0] is None or last_heartbeat_at > before[0]):
        values["last_heartbeat_at"] = last_heartbeat_at
    if peak_concurrency is not None:
        values["peak_concurrency"] = peak_concurrency
    connection.execute(update(Run).where(Run.id == run_id).values(values))
    if processes is not None:
        wanted = tuple({p.name: p for p in processes}.values())
        stored = connection.execute(_PROCESS_COUNTS, {"run_id": run_id})
        if tuple(_process_counts(row) for row in stored) != wanted:
            _replace_processes(session, run_id, wanted)
    return True


def record_heartbeats(session: Session, *, heartbeats: Mapping[str, datetime]) -> None:
    """Each run's heartbeat (by run id) moves forward to the time given, never back, in
    one executemany; a run not in the index is left out."""
    if heartbeats:
        now = utcnow()
        rows = [{"run_id": run_id, "beat": at, "now": now} for run_id, at in heartbeats.items()]
        session.connection().execute(_RECORD_HEARTBEAT, rows)


# built once: report_progress runs on every report
_BEAT = bindparam("beat", type_=Run.last_heartbeat_at.type)
_RECORD_HEARTBEAT = (
    update(Run)
    .where(Run.id == bindparam("run_id"), or_(Run.last_heartbeat_at.is_(None), Run.last_heartbeat_at < _BEAT))
    .values(last_heartbeat_at=_BEAT, updated_at=bindparam("now", type_=Run.updated_at.type))
)
_LAST_HEARTBEAT = select(Run.last_heartbeat_at).where(Run.id == bindparam("run_id"))
_PROCESS_COUNTS = (
    select(Process.name, *(getattr(Process, c) for c in COUNTS))
    .where(Process.run_id == bindparam("run_id"))
    .order_by(Process.position)
)


def _process_counts(row: Sequence[Any]) -> ProcessCounts:
    """A process's counts from its name and the COUNTS columns, in that order."""
    return ProcessCounts(row[0], **dict(zip(COUNTS, row[1:], strict=True)))


def _replace_processes(session: Session, run_id: str, processes: Iterable[ProcessCounts]) -> None:
    session.connection().execute(delete(Process).where(Process.run_id == run_id))
    latest = {p.name: p for p in processes}  # a repeated name: the last one wins
    if latest:
        rows = [
            {"run_id": run_id, "name": p.name, "position": i, **{c: getattr(p, c) for c in COUNTS}}
            for i, p in enumerate(latest.values())
        ]
        session.connection().execute(insert(session, Process), rows)  # executemany: one cached statement


def _terminal(phase: str | None) -> bool:
    return phase is not None and phase in TERMINAL_PHASES


def _resumed(before: datetime | None, now: datetime | None) -> bool:
    return before is not None and now is not None and now > before


def get_run(session: Session, *, ref: str, namespace: str | None = None) -> RunRecord | None:
    """The run whose id or run name is `ref` (a run name may need `namespace`; see the
    module docstring for which run a name picks)."""

    def scoped(stmt: Select[Any]) -> Select[Any]:
        return stmt.where(Run.namespace == namespace) if namespace else stmt

    by_id = session.execute(scoped(select_records().where(Run.id == ref))).all()
    if by_id:
        return to_records(session, by_id)[0]
    found = session.execute(
        scoped(select_records().where(Run.run_name == ref)).order_by(Run.created_at.desc(), Run.id)
    ).all()
    live = [r for r in found if r.removed_at is None]
    candidates = live or found
    if len(candidates) > 1:
        raise AmbiguousRun(ref, [RunCandidate(r.id, r.namespace, r.name, r.run_name) for r in candidates])
    return to_records(session, candidates)[0] if candidates else None


def mark_run_removed(session: Session, *, run_id: str, at: datetime) -> bool:
    """Record that the run's resource was deleted (its rows stay; its name is free for a
    new run). Returns False when the run is not in the index or already removed."""
    return bool(
        rowcount(session.execute(update(Run).where(Run.id == run_id, Run.removed_at.is_(None)).values(removed_at=at)))
    )


def list_runs(
    session: Session,
    *,
    state: str | Collection[str] | None = None,
    owner: str | None = None,
    cluster: str | None = None,
    label: dict[str, str] | None = None,
    name_contains: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    namespace: str | None = None,
    archived: bool | None = None,
    sort: str = "-created_at",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[RunRecord], int]:
    """A page of runs matching every given filter, and how many match in total
    (`archived`: only archived runs, only the others, or both when None)."""
    order = _order_by(sort)
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    conditions: list[Any] = []
    if state is not None:
        states = [state] if isinstance(state, str) else list(state)
        conditions.append(Run.state.in_([plain(s) for s in states]))
    for column, value in ((Run.owner, owner), (Run.cluster, cluster), (Run.namespace, namespace)):
        if value is not None:
            conditions.append(column == value)
    for key, value in (label or {}).items():
        if not _LABEL_KEY.fullmatch(key) or len(key) > 317:
            raise ValueError(f"invalid label key {key!r}")
        conditions.append(Run.labels[key].as_string() == value)
    if name_contains:
        needle, dialect = func.lower(literal(name_contains)), dialect_of(session)
        conditions.append(
            (position(dialect, needle, func.lower(Run.run_name)) > 0)
            | (position(dialect, needle, func.lower(Run.name)) > 0)
        )
    if archived is not None:
        conditions.append(Run.archived_at.is_not(None) if archived else Run.archived_at.is_(None))
    if created_after is not None:
        conditions.append(Run.created_at >= created_after)
    if created_before is not None:
        conditions.append(Run.created_at < created_before)
    total = session.scalar(select(func.count()).select_from(Run).where(*conditions)) or 0
    page = session.execute(select_records().where(*conditions).order_by(*order).limit(limit).offset(offset)).all()
    return to_records(session, page), total


def _order_by(sort: str) -> list[Any]:
    key = sort.removeprefix("-")
    if key not in SORT_KEYS:
        raise ValueError(f"cannot sort by {sort!r}: use one of {', '.join(SORT_KEYS)} (prefix '-' for descending)")
    column = getattr(Run, key)
    first = column.desc() if sort.startswith("-") else column.asc()
    return [first.nulls_last(), Run.id.desc() if sort.startswith("-") else Run.id.asc()]


def run_executions(session: Session, *, run_id: str) -> list[Execution]:
    """Previous executions of a resumed run, newest first (the current one is the run)."""
    rows = session.scalars(
        select(RunExecution).where(RunExecution.run_id == run_id).order_by(RunExecution.started_at.desc())
    )
    return [
        Execution(
            run_id=r.run_id,
            started_at=r.started_at,
            phase=r.phase,
            completed_at=r.completed_at,
            error_message=r.error_message,
            cost=r.cost,
            session_id=r.session_id,
        )
        for r in rows
    ]


def outputs_summary(session: Session, *, run_id: str) -> OutputsSummary:
    """The run's outputs summary; RunNotFound when the run is not in the index."""
    summaries = outputs_summaries(session, run_ids=[run_id])
    if run_id not in summaries:
        raise RunNotFound(run_id)
    return summaries[run_id]


def outputs_summaries(session: Session, *, run_ids: Iterable[str]) -> dict[str, OutputsSummary]:
    """Outputs summaries of several runs at once (for listings), keyed by run id."""
    rows = session.execute(
        select(
            Run.id,
            Run.outputs_count,
            Run.outputs_bytes,
            Run.outputs_indexed_at,
            Run.outputs_deleted_at,
            Run.outputs_deleted_by,
        ).where(Run.id.in_(list(run_ids)))
    )
    return {
        r.id: OutputsSummary(
            r.outputs_count, r.outputs_bytes, r.outputs_indexed_at, r.outputs_deleted_at, r.outputs_deleted_by
        )
        for r in rows
    }


# What a RunRecord is made of, read as plain rows: no ORM objects for a listing.
_RECORD_COLUMNS = (
    Run.id,
    Run.commit_hash,
    Run.created_at,
    Run.archived_at,
    Run.removed_at,
    *(getattr(Run, f) for f in _FIELDS),
)
_PROCESS_CHUNK = 5000  # run ids per IN list


def select_records() -> Select[Any]:
    """The runs' columns `to_records` turns into records; add conditions and order."""
    return select(*_RECORD_COLUMNS)


def to_records(session: Session, rows: Sequence[Row[Any]]) -> list[RunRecord]:
    """The records of `select_records()` rows, in their order, with their processes."""
    processes: dict[str, list[ProcessCounts]] = {}
    ids = [row.id for row in rows]
    for start in range(0, len(ids), _PROCESS_CHUNK):
        stored = session.execute(
            select(Process.run_id, Process.name, *(getattr(Process, c) for c in COUNTS))
            .where(Process.run_id.in_(ids[start : start + _PROCESS_CHUNK]))
            .order_by(Process.run_id, Process.position)
        )
        for run_id, *counts in stored:
            processes.setdefault(run_id, []).append(_process_counts(counts))
    return [
        RunRecord(
            id=row.id,
            commit=row.commit_hash,
            created_at=row.created_at,
            processes=tuple(processes.get(row.id, ())),
            archived_at=row.archived_at,
            **{f: getattr(row, f) for f in _FIELDS},
        )
        for row in rows
    ]
