"""The trace receiver's workflow ids: which run each id a runner was given reports
on, and what the receiver has derived for that run so far (`reported`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.store.models import TraceWorkflow
from tracker.store.types import utcnow


@dataclass(frozen=True)
class TraceBinding:
    workflow_id: str
    run_id: str
    namespace: str
    name: str
    owner: str
    session_id: str | None = None
    reported: dict[str, Any] = field(default_factory=dict)


def add_binding(session: Session, *, binding: TraceBinding) -> None:
    now = utcnow()
    session.add(
        TraceWorkflow(
            workflow_id=binding.workflow_id,
            run_id=binding.run_id,
            namespace=binding.namespace,
            name=binding.name,
            owner=binding.owner,
            session_id=binding.session_id,
            reported=binding.reported,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()


def get_binding(session: Session, *, workflow_id: str, lock: bool = False) -> TraceBinding | None:
    """The binding of `workflow_id`; `lock` takes the row for update (PostgreSQL),
    so concurrent calls of one run apply their changes one after the other."""
    query = select(*_BINDING).where(TraceWorkflow.workflow_id == workflow_id)
    # Core, not the ORM: every trace call reads its binding
    row = session.connection().execute(query.with_for_update() if lock else query).first()
    if row is None:
        return None
    values = row._asdict()
    return TraceBinding(**values | {"reported": dict(values["reported"] or {})})


_BINDING = (
    TraceWorkflow.workflow_id,
    TraceWorkflow.run_id,
    TraceWorkflow.namespace,
    TraceWorkflow.name,
    TraceWorkflow.owner,
    TraceWorkflow.session_id,
    TraceWorkflow.reported,
)


def latest_for_session(session: Session, *, namespace: str, session_id: str) -> TraceBinding | None:
    """The newest binding of a runner session in a namespace (a resume continues it)."""
    row = session.scalars(
        select(TraceWorkflow)
        .where(
            TraceWorkflow.namespace == namespace,
            TraceWorkflow.session_id == session_id,
        )
        .order_by(TraceWorkflow.created_at.desc())
        .limit(1)
    ).first()
    return _binding(row) if row is not None else None


def set_reported(session: Session, *, workflow_id: str, reported: dict[str, Any]) -> None:
    row = session.get(TraceWorkflow, workflow_id)
    if row is None:
        raise LookupError(f"unknown workflow id {workflow_id!r}")
    row.reported, row.updated_at = reported, utcnow()
    session.flush()


def _binding(row: TraceWorkflow) -> TraceBinding:
    return TraceBinding(
        workflow_id=row.workflow_id,
        run_id=row.run_id,
        namespace=row.namespace,
        name=row.name,
        owner=row.owner,
        session_id=row.session_id,
        reported=dict(row.reported or {}),
    )
