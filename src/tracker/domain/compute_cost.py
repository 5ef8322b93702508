"""Estimated compute cost and resource efficiency of a run, from its task attempts.

An attempt costs its billed hours times (CPUs requested x USD per CPU-hour + memory
requested in GiB x USD per GiB-hour), at the rate of its machine type, else of its
executor, else the default. Billed time is the attempt's `realtime` (its command's
wallclock), falling back to `duration` (submit to complete) when the runner sent no
realtime. Cached attempts cost nothing in this run (an earlier execution paid); failed
and retried attempts cost like any other. Missing requests count as Nextflow's
defaults: 1 CPU, no memory.

Efficiency compares use with requests, weighted by time: CPU is `pcpu / 100` over
`cpus`, memory is peak RSS over memory requested, each over the attempts that report
both. What an attempt requested but did not use (CPU-hours, GiB-hours) priced at its
rate is its wasted cost. Pure: no I/O and no framework.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from tracker.domain.tasks import TaskRecord, TaskStatus

GIB = 2**30
HOUR_MS = 3_600_000
DEFAULT_CPUS = 1  # Nextflow's `cpus` when a process sets none
TOP = 5  # the slowest and the most wasteful processes shown
NOT_SUCCEEDED = "Estimated once the run has succeeded."
RESUMED = "Not estimated for a resumed run: its cached tasks ran, and cost, in earlier executions."
NO_TASKS = "No task records in the index."


@dataclass(frozen=True)
class Rate:
    """USD per CPU-hour and per GiB-hour of memory requested."""

    cpu_hour: float
    gib_hour: float


@dataclass(frozen=True)
class ComputePrices:
    """The default rate and overrides by executor (`awsbatch`, `k8s`, ...) and by
    machine type (`m5.2xlarge`, ...); a machine type's wins over its executor's."""

    default: Rate = Rate(cpu_hour=0.04048, gib_hour=0.004445)  # AWS Fargate on-demand, us-east-1
    executors: Mapping[str, Rate] = field(default_factory=dict)
    machine_types: Mapping[str, Rate] = field(default_factory=dict)

    def rate(self, *, executor: str | None, machine_type: str | None) -> Rate:
        if machine_type is not None and machine_type in self.machine_types:
            return self.machine_types[machine_type]
        if executor is not None and executor in self.executors:
            return self.executors[executor]
        return self.default


@dataclass(frozen=True)
class CostLine:
    """One process's attempts (or all of the run's), summed."""

    process: str
    attempts: int = 0
    cached: int = 0
    billed: int = 0  # attempts with billed time
    unsuccessful: int = 0  # billed attempts that failed, were retried or aborted
    billed_hours: float = 0.0
    longest_ms: int = 0
    cpu_hours: float = 0.0  # requested CPUs x billed hours
    gib_hours: float = 0.0  # requested GiB x billed hours
    cost: float = 0.0
    unsuccessful_cost: float = 0.0
    measured_cpu_hours: float = 0.0  # requested CPU-hours of the attempts reporting pcpu
    used_cpu_hours: float = 0.0
    measured_gib_hours: float = 0.0  # requested GiB-hours of the attempts reporting peak RSS
    used_gib_hours: float = 0.0
    unused_cpu_hours: float = 0.0
    unused_gib_hours: float = 0.0
    wasted_cost: float = 0.0
    peak_rss: int | None = None
    memory_bytes: int | None = None  # the largest request

    @property
    def cpu_efficiency(self) -> float | None:
        """CPU used over requested (above 1 when a task used more than it asked for)."""
        return self.used_cpu_hours / self.measured_cpu_hours if self.measured_cpu_hours > 0 else None

    @property
    def memory_efficiency(self) -> float | None:
        """Peak memory over memory requested, weighted by time."""
        return self.used_gib_hours / self.measured_gib_hours if self.measured_gib_hours > 0 else None

    @property
    def mean_ms(self) -> int | None:
        return round(self.billed_hours * HOUR_MS / self.billed) if self.billed else None


@dataclass(frozen=True)
class CostReport:
    total: CostLine
    processes: tuple[CostLine, ...]  # most expensive first

    @property
    def slowest(self) -> tuple[CostLine, ...]:
        """Processes by their longest attempt, longest first."""
        ranked = sorted((p for p in self.processes if p.longest_ms > 0), key=lambda p: (-p.longest_ms, p.process))
        return tuple(ranked[:TOP])

    @property
    def most_wasteful(self) -> tuple[CostLine, ...]:
        """Processes by the cost of what they requested and did not use, largest first."""
        ranked = sorted((p for p in self.processes if p.wasted_cost > 0), key=lambda p: (-p.wasted_cost, p.process))
        return tuple(ranked[:TOP])


def why_not_estimated(*, succeeded: bool, resumed: bool, has_tasks: bool) -> str | None:
    """None when the run's estimate is its cost (succeeded, never resumed, with task
    records); else why the page shows none."""
    if not succeeded:
        return NOT_SUCCEEDED
    if resumed:
        return RESUMED
    return None if has_tasks else NO_TASKS


def billed_ms(task: TaskRecord) -> int:
    """The attempt's billed milliseconds: realtime, else duration; 0 when cached."""
    if task.status is TaskStatus.CACHED:
        return 0
    for value in (task.realtime_ms, task.duration_ms):
        if value is not None:
            return max(0, value)
    return 0


class _Sums:
    """A CostLine being summed."""

    def __init__(self, process: str) -> None:
        self.process = process
        self.values: dict[str, float] = dict.fromkeys(_SUMMED, 0.0)
        self.longest_ms = 0
        self.peak_rss: int | None = None
        self.memory_bytes: int | None = None

    def add(self, task: TaskRecord, rate: Rate) -> None:
        v = self.values
        v["attempts"] += 1
        if task.status is TaskStatus.CACHED:
            v["cached"] += 1
            return
        if task.peak_rss is not None:
            self.peak_rss = max(self.peak_rss or 0, task.peak_rss)
        if task.memory_bytes is not None:
            self.memory_bytes = max(self.memory_bytes or 0, task.memory_bytes)
        ms = billed_ms(task)
        if ms == 0:
            return
        hours = ms / HOUR_MS
        cpus = max(0, task.cpus if task.cpus is not None else DEFAULT_CPUS)
        gib = max(0, task.memory_bytes or 0) / GIB
        cost = hours * (cpus * rate.cpu_hour + gib * rate.gib_hour)
        self.longest_ms = max(self.longest_ms, ms)
        v["billed"] += 1
        v["billed_hours"] += hours
        v["cpu_hours"] += cpus * hours
        v["gib_hours"] += gib * hours
        v["cost"] += cost
        if task.status in (TaskStatus.FAILED, TaskStatus.RETRIED, TaskStatus.ABORTED):
            v["unsuccessful"] += 1
            v["unsuccessful_cost"] += cost
        wasted = 0.0
        if task.pcpu is not None:
            used = max(0.0, task.pcpu) / 100
            v["measured_cpu_hours"] += cpus * hours
            v["used_cpu_hours"] += used * hours
            unused = max(0.0, cpus - used) * hours
            v["unused_cpu_hours"] += unused
            wasted += unused * rate.cpu_hour
        if task.peak_rss is not None and gib > 0:
            used_gib = max(0, task.peak_rss) / GIB
            v["measured_gib_hours"] += gib * hours
            v["used_gib_hours"] += used_gib * hours
            unused = max(0.0, gib - used_gib) * hours
            v["unused_gib_hours"] += unused
            wasted += unused * rate.gib_hour
        v["wasted_cost"] += wasted

    def line(self) -> CostLine:
        values: dict[str, Any] = {k: int(v) if k in _COUNTS else v for k, v in self.values.items()}
        return CostLine(
            process=self.process,
            longest_ms=self.longest_ms,
            peak_rss=self.peak_rss,
            memory_bytes=self.memory_bytes,
            **values,
        )


_NOT_SUMMED = ("process", "longest_ms", "peak_rss", "memory_bytes")
_SUMMED = tuple(f.name for f in fields(CostLine) if f.name not in _NOT_SUMMED)
_COUNTS = tuple(f.name for f in fields(CostLine) if f.name in _SUMMED and f.type == "int")
ALL_PROCESSES = "All processes"
UNNAMED = "(no process)"


def estimate(tasks: Iterable[TaskRecord], prices: ComputePrices = ComputePrices()) -> CostReport:
    """The run's cost and efficiency, per process and in total, in one pass over its
    attempts (of every execution given)."""
    total = _Sums(ALL_PROCESSES)
    by_process: dict[str, _Sums] = {}
    for task in tasks:
        name = task.process or UNNAMED
        sums = by_process.get(name)
        if sums is None:
            sums = by_process[name] = _Sums(name)
        rate = prices.rate(executor=task.executor, machine_type=task.machine_type)
        sums.add(task, rate)
        total.add(task, rate)
    lines = sorted((s.line() for s in by_process.values()), key=lambda p: (-p.cost, p.process))
    return CostReport(total=total.line(), processes=tuple(lines))
