"""One mutating job per run: what a request meets when another job is active.

A request resolves to the active job only when it asks for the same thing (same
operation, same dryRun, same destination); any other mutating request is refused as
Busy, naming the active job, so no request is ever reported with another job's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BUSY = "Busy"
DUPLICATE = "Duplicate"


@dataclass(frozen=True)
class Ask:
    """What a lifecycle request asks for, as far as sameness goes."""

    operation: str
    dry_run: bool = False
    destination: str | None = None

    @classmethod
    def of(cls, operation: str, dry_run: bool | None, destination: str | None) -> Ask:
        return cls(str(operation), bool(dry_run), destination or None)


@dataclass(frozen=True)
class ActiveJob:
    """The Enqueued or Running mutating job of a run."""

    id: str
    name: str
    phase: str
    ask: Ask


class Meeting(StrEnum):
    DUPLICATE = "duplicate"  # the same request: resolve to the active job
    BUSY = "busy"  # another request: refuse, naming the active job


def same_request(a: Ask, b: Ask) -> bool:
    return a == b


def describe(ask: Ask) -> str:
    """`delete_outputs`, `delete_outputs (dry run)`, `move_outputs to s3://b/x/`."""
    text = ask.operation + (" (dry run)" if ask.dry_run else "")
    return text + (f" to {ask.destination}" if ask.destination else "")


def meet(ask: Ask, active: ActiveJob) -> Meeting:
    return Meeting.DUPLICATE if same_request(ask, active.ask) else Meeting.BUSY


def busy_message(run: str, ask: Ask, active: ActiveJob) -> str:
    return (
        f"run {run!r} is busy: {describe(active.ask)} job {active.id} ({active.name}) is "
        f"{active.phase.lower()}; this {describe(ask)} request was not started: "
        "request it again when that job has finished"
    )


def duplicate_message(run: str, active: ActiveJob) -> str:
    return (
        f"{describe(active.ask)} for run {run!r} is already {active.phase.lower()} as job "
        f"{active.id} ({active.name}): this request resolves to it"
    )
