"""What the Process Detail page (`/runs/{run}/processes/{process}`) shows of a
process's `ProcessStats`: its cards, as (id, label, value) facts. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.api.web.formats import NONE
from tracker.api.web.tasks_view import millis, percent, share, size
from tracker.domain.tasks import TaskStatus
from tracker.domain.taskstats import ProcessStats, Spread, value_range


@dataclass(frozen=True)
class Fact:
    id: str  # the element id of its value, for tests and anchors
    label: str
    value: str


@dataclass(frozen=True)
class Card:
    id: str
    title: str
    facts: tuple[Fact, ...]
    note: str | None = None


def _spread(stats: Spread) -> str:
    if not stats.count:
        return NONE
    return f"{millis(stats.low)} / {millis(stats.median)} / {millis(stats.high)}"


def cards(stats: ProcessStats) -> list[Card]:
    """Attempts (by status, retries, cached), durations (min / median / max),
    resources (requested vs used) and I/O."""
    by_status = ", ".join(
        f"{stats.by_status[s.value]} {s.value.lower()}" for s in TaskStatus if stats.by_status.get(s.value)
    )
    attempts = Card(
        "process-attempts",
        "Attempts",
        (
            Fact("stat-tasks", "Tasks", str(stats.tasks)),
            Fact("stat-attempts", "Attempts", str(stats.attempts)),
            Fact("stat-by-status", "By status", by_status or NONE),
            Fact("stat-cached", "Cached", str(stats.cached)),
            Fact("stat-retried", "Failed and retried", str(stats.retried)),
            Fact("stat-retry-attempts", "Retry attempts", str(stats.retry_attempts)),
            Fact("stat-max-attempt", "Most attempts", str(stats.max_attempt) if stats.max_attempt else NONE),
        ),
    )
    durations = Card(
        "process-durations",
        "Durations",
        (
            Fact("stat-duration", "Duration (min / median / max)", _spread(stats.duration)),
            Fact("stat-realtime", "Realtime (min / median / max)", _spread(stats.realtime)),
        ),
        note="Duration runs from submission to completion; realtime is the task's own run time.",
    )
    resources = Card(
        "process-resources",
        "Resource use",
        (
            Fact("stat-cpus", "CPUs requested", value_range(stats.cpus_low, stats.cpus_high, _whole) or NONE),
            Fact("stat-pcpu", "CPU used (mean / max)", _pair(percent(stats.pcpu_mean), percent(stats.pcpu_max))),
            Fact("stat-cpu-share", "CPU used / requested", share(stats.cpu_share)),
            Fact("stat-memory", "Memory requested", value_range(stats.memory_low, stats.memory_high, size) or NONE),
            Fact("stat-rss", "Peak RSS (mean / max)", _pair(size(stats.peak_rss_mean), size(stats.peak_rss_max))),
            Fact("stat-memory-share", "Peak RSS / requested (max)", share(stats.memory_share)),
            Fact("stat-read", "Read", size(stats.read_bytes)),
            Fact("stat-write", "Written", size(stats.write_bytes)),
        ),
        note=f"Over the {stats.executed} attempt{'s' * (stats.executed != 1)} this run executed; "
        "cached ones are not counted.",
    )
    return [attempts, durations, resources]


def _whole(value: float) -> str:
    return str(int(value))


def _pair(first: str, second: str) -> str:
    return NONE if first == NONE and second == NONE else f"{first} / {second}"
