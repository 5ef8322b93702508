"""A process's task attempts in numbers, as the Process Detail page shows them:
attempts by status, retries, durations (min / median / max), resources requested
and used, bytes read and written. The store computes the aggregates in SQL (a run
has thousands of attempts); the types and the arithmetic on them live here.

Resource use counts the attempts executed by this run: a `CACHED` attempt carries
the trace of the execution that computed it, so it is counted by status only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tracker.domain.tasks import TaskStatus


def median_positions(count: int) -> tuple[int, ...]:
    """The 0-based positions, in sorted order, of the values whose mean is the median
    of `count` values: none for none, the middle one for an odd count, the two middle
    ones for an even count."""
    if count <= 0:
        return ()
    if count % 2:
        return (count // 2,)
    return (count // 2 - 1, count // 2)


def median_of(middle: Sequence[float]) -> float | None:
    """The median from the values at `median_positions` (one or two of them)."""
    if not middle:
        return None
    return sum(middle) / len(middle)


@dataclass(frozen=True)
class Spread:
    """Smallest, median and largest value of one column over the attempts that have it."""

    count: int = 0
    low: float | None = None
    median: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ProcessStats:
    """One process of a run: its attempts by status and, over the attempts it executed
    (not cached), durations in milliseconds, requested CPUs and memory (smallest and
    largest request), %CPU used (100 = one CPU busy) and peak RSS (mean and largest),
    and bytes read and written (totals)."""

    process: str
    by_status: Mapping[str, int] = field(default_factory=dict)
    retry_attempts: int = 0  # attempts after a first one (attempt > 1)
    max_attempt: int = 0
    duration: Spread = Spread()
    realtime: Spread = Spread()
    cpus_low: int | None = None
    cpus_high: int | None = None
    memory_low: int | None = None
    memory_high: int | None = None
    pcpu_mean: float | None = None
    pcpu_max: float | None = None
    cpu_share: float | None = None  # mean over attempts of %CPU / (100 x requested CPUs)
    peak_rss_mean: float | None = None
    peak_rss_max: int | None = None
    memory_share: float | None = None  # the largest peak RSS / requested memory of an attempt
    read_bytes: int | None = None
    write_bytes: int | None = None

    @property
    def attempts(self) -> int:
        return sum(self.by_status.values())

    @property
    def cached(self) -> int:
        return self.by_status.get(TaskStatus.CACHED.value, 0)

    @property
    def executed(self) -> int:
        return self.attempts - self.cached

    @property
    def retried(self) -> int:
        """Attempts that failed and were retried by the runner."""
        return self.by_status.get(TaskStatus.RETRIED.value, 0)

    @property
    def tasks(self) -> int:
        """Tasks: every attempt but those a retry replaced."""
        return self.attempts - self.retried


def value_range(low: float | None, high: float | None, show: Callable[[float], str] = str) -> str | None:
    """`2`, or `2 – 4` when the values differ, each through `show`; None when unknown."""
    if low is None or high is None:
        return None
    return show(low) if low == high else f"{show(low)} – {show(high)}"
