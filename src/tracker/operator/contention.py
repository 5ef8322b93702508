"""A lifecycle request meets its run's active mutating job (tracker.domain.contention):
the status admission gives it, resolved to that job or refused as Busy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracker.domain.contention import DUPLICATE, ActiveJob, Ask, Meeting, busy_message, duplicate_message, meet
from tracker.domain.records import JobRecord

Status = dict[str, Any]


@dataclass(frozen=True)
class Met:
    """How the request met the active job; `status`: the fields admission writes for it
    (for a Busy refusal, the caller adds the Failed phase)."""

    kind: Meeting
    message: str
    status: Status


def meet_active(spec: dict[str, Any], active: JobRecord, run_name: str) -> Met:
    """A mutating request while `active` is Enqueued or Running: the same request
    resolves to it (its id, phase and progress); any other is refused as Busy."""
    ask = Ask.of(spec["operation"], spec.get("dryRun"), spec.get("destination"))
    other = ActiveJob(
        active.id, active.name, str(active.phase), Ask.of(active.operation, active.dry_run, active.destination)
    )
    stanza = {
        "jobId": active.id,
        "name": active.name,
        "operation": str(active.operation),
        "dryRun": bool(active.dry_run),
        "phase": str(active.phase),
        **({"destination": active.destination} if active.destination else {}),
    }
    if meet(ask, other) is Meeting.DUPLICATE:
        message = duplicate_message(run_name, other)
        return Met(
            Meeting.DUPLICATE,
            message,
            {
                "jobId": active.id,
                "runId": active.run_id,
                "phase": str(active.phase),
                "reason": DUPLICATE,
                "message": message,
                "activeJob": stanza,
            },
        )
    return Met(Meeting.BUSY, busy_message(run_name, ask, other), {"activeJob": stanza})
