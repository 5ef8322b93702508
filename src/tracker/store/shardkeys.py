"""A run's indexed output keys, for cutting a sharded lifecycle job into key ranges:
how many there are under a prefix, and the keys at given positions in key order
(URL columns compare by code point on both engines, S3's listing order)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tracker.domain.fence import Fence
from tracker.store.models import Base, Output
from tracker.store.textsearch import under_prefix

outputs = Base.metadata.tables[Output.__tablename__]


def _under(run_id: str, prefix: str) -> list[ColumnElement[bool]]:
    low, _ = Fence.of_text(prefix).text_bounds()
    return [outputs.c.run_id == run_id, *under_prefix(outputs.c.url, low)]


def count_under(session: Session, *, run_id: str, prefix: str) -> int:
    """The run's indexed outputs (deleted or not) whose URL lies under `prefix`."""
    return int(session.scalar(select(func.count()).select_from(outputs).where(*_under(run_id, prefix))) or 0)


def keys_at(session: Session, *, run_id: str, prefix: str, offsets: Sequence[int]) -> list[str]:
    """The keys, relative to `prefix`, of the run's outputs at `offsets` (0-based) in
    URL order; one range-scan query per offset."""
    base = len(prefix)
    stmt = select(outputs.c.url).where(*_under(run_id, prefix)).order_by(outputs.c.url).limit(1)
    return [str(session.scalar(stmt.offset(offset)))[base:] for offset in offsets]
