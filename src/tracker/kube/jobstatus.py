"""Writing an OutputLifecycleJob's phase: every writer goes through `with_phase`, so the
conditions (tracker.domain.jobconditions) and `observedGeneration` always come along."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tracker.domain.jobconditions import job_conditions

Status = dict[str, Any]


def with_phase(current: Mapping[str, Any], patch: Status, now: datetime | None = None) -> Status:
    """`patch` (which sets `phase`) plus the conditions and observedGeneration it implies,
    computed from the job body `current` the writer read."""
    status = current.get("status") or {}
    merged = {**status, **patch}
    conditions = job_conditions(
        status.get("conditions") or [],
        merged["phase"],
        merged.get("reason"),
        merged.get("message"),
        now or datetime.now(UTC),
    )
    stamped: Status = {**patch, "conditions": conditions}
    generation = (current.get("metadata") or {}).get("generation")
    if generation is not None:
        stamped["observedGeneration"] = generation
    return stamped
