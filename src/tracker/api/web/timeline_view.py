"""The Task Timeline tab's data: every attempt of the run (up to MAX_ATTEMPTS, only
the columns it draws) laid out by `tracker.domain.timeline`, and its zoom links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from tracker.api import schemas
from tracker.domain import timeline
from tracker.store import tasks

MAX_ATTEMPTS = 20_000


@dataclass(frozen=True)
class TimelineView:
    drawing: timeline.Timeline
    total: int  # the run's attempts; more than drawn when over MAX_ATTEMPTS
    loaded: int
    zoom: int
    zooms: tuple[int, ...] = timeline.ZOOMS


def parse_zoom(value: str | None) -> int:
    """`?zoom=` when it is one of ZOOMS, else 1."""
    return int(value) if value and value.isdigit() and int(value) in timeline.ZOOMS else 1


def load(session: Session, run: schemas.RunDetail, zoom: str | None, now: datetime | None = None) -> TimelineView:
    """The run's timeline. Attempts still open end at the run's completion, else at its
    last heartbeat (a live run's recent past; a lost runner's last word), else now."""
    found, total = tasks.list_task_spans(session, run_id=run.id, limit=MAX_ATTEMPTS)
    end = run.completed_at or run.last_heartbeat_at or now or datetime.now(UTC)
    scale = parse_zoom(zoom)
    return TimelineView(drawing=timeline.layout(found, now=end, zoom=scale), total=total, loaded=len(found), zoom=scale)
