"""The Cost & Performance tab's and the Cost card's data: the run's estimate from
`GET /api/v1/runs/{run}/cost`'s own function, when the run has one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tracker.api import schemas
from tracker.api.routes import costs
from tracker.api.web import presenters
from tracker.api.web.formats import NONE
from tracker.domain.cost import human_size
from tracker.settings import Settings


@dataclass(frozen=True)
class CostView:
    report: schemas.RunCost | None  # None when the run has no estimate
    reason: str | None  # why not

    @staticmethod
    def size(size_bytes: int | None) -> str:
        return NONE if size_bytes is None else human_size(size_bytes)


def load(session: Session, run: schemas.RunDetail, settings: Settings, *, has_tasks: bool) -> CostView:
    reason = presenters.cost_reason(run, has_tasks=has_tasks)
    if reason is not None:
        return CostView(report=None, reason=reason)
    return CostView(report=costs.estimated_cost(run.id, session, settings), reason=None)
