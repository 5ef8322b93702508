"""Is a run alive? Disconnected and Stalled, the display state, and when to look again.

- Disconnected: the run is not terminal and no heartbeat arrived for the heartbeat
  timeout (counted from creation while none has arrived yet).
- Stalled: the run is not terminal, at least one task was seen, and every task has
  been terminal for `stalled_after` (the runner is probably hanging).

`assess` is a pure function of what the run reports and the time; it also says when
its answer would next change without new reports, so a caller can sleep until then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.domain.conditions import Condition, Desired, apply
from tracker.domain.records import Phase, ProcessCounts

DISCONNECTED = "Disconnected"
STALLED = "Stalled"


@dataclass(frozen=True)
class RunSignals:
    """What the runner has told us, plus the one fact the operator records itself."""

    phase: Phase | None
    created_at: datetime
    last_heartbeat: datetime | None
    processes: Sequence[ProcessCounts]
    tasks_terminal_since: datetime | None
    heartbeat_timeout: timedelta
    stalled_after: timedelta

    @property
    def terminal(self) -> bool:
        return self.phase is not None and self.phase.terminal


@dataclass(frozen=True)
class Health:
    disconnected: bool
    stalled: bool
    state: str
    next_change_at: datetime | None

    def conditions(self, current: Sequence[Condition], now: datetime, signals: RunSignals) -> list[Condition]:
        """`current` with the Disconnected and Stalled conditions brought up to date."""
        return apply(apply(current, _disconnected(self, signals), now), _stalled(self, signals), now)


def all_tasks_terminal(processes: Sequence[ProcessCounts]) -> bool:
    """At least one task was seen and none is running, submitted or pending."""
    return sum(p.seen for p in processes) > 0 and all(p.active == 0 for p in processes)


def tasks_terminal_since(
    processes: Sequence[ProcessCounts], recorded: datetime | None, now: datetime
) -> datetime | None:
    """The moment every task became terminal: kept while it stays so, cleared otherwise."""
    if not all_tasks_terminal(processes):
        return None
    return recorded or now


def assess(signals: RunSignals, now: datetime) -> Health:
    if signals.terminal:
        return Health(False, False, str(signals.phase), None)
    heartbeat_deadline = (signals.last_heartbeat or signals.created_at) + signals.heartbeat_timeout
    disconnected = now >= heartbeat_deadline
    stall_deadline = signals.tasks_terminal_since + signals.stalled_after if signals.tasks_terminal_since else None
    stalled = stall_deadline is not None and now >= stall_deadline
    upcoming = [d for d in (heartbeat_deadline, stall_deadline) if d is not None and d > now]
    if disconnected:
        state = DISCONNECTED
    elif stalled:
        state = STALLED
    else:
        state = str(signals.phase or Phase.SUBMITTED)
    return Health(disconnected, stalled, state, min(upcoming, default=None))


def _disconnected(health: Health, signals: RunSignals) -> Desired:
    if signals.terminal:
        return Desired(DISCONNECTED, False, "RunFinished", f"the run finished ({signals.phase})")
    if health.disconnected:
        since = "since " + (signals.last_heartbeat.isoformat() if signals.last_heartbeat else "the run was created")
        return Desired(
            DISCONNECTED,
            True,
            "HeartbeatMissing",
            f"no heartbeat for more than {_duration(signals.heartbeat_timeout)} ({since}): "
            "the workflow runner may have crashed or lost connectivity",
        )
    return Desired(DISCONNECTED, False, "HeartbeatReceived", "the runner's heartbeat is current")


def _stalled(health: Health, signals: RunSignals) -> Desired:
    if signals.terminal:
        return Desired(STALLED, False, "RunFinished", f"the run finished ({signals.phase})")
    if health.stalled:
        return Desired(
            STALLED,
            True,
            "AllTasksTerminal",
            f"every task has been terminal for more than {_duration(signals.stalled_after)} "
            "but the run has not completed: the runner is probably hanging",
        )
    if signals.tasks_terminal_since is None:
        return Desired(STALLED, False, "TasksActive", "tasks are running, submitted or pending, or none was seen yet")
    return Desired(STALLED, False, "WaitingForCompletion", "every task is terminal; waiting for the run to complete")


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
