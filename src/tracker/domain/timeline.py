"""The Task Timeline's geometry: where each task attempt of a run is drawn.

Attempts are grouped in one lane per process (ordered by the process's first
submission); inside a lane each attempt takes the first row that is free when it is
submitted (greedy interval partitioning), so a lane is as tall as the process's peak
concurrency and a row's bars never overlap and are ordered by start. An attempt is
a thin "waiting" bar from submission to start and a full bar from start to
completion; one that has not completed is drawn up to `now` and marked open. Cached
attempts did not run in this run (their times, if any, are those of the execution
that computed them), so they are counted per lane, not drawn on the axis; attempts
with no time at all (NEW) are counted likewise. Every coordinate lies inside the
drawing. Pure: no I/O, no framework.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.domain.tasks import TaskRecord, TaskStatus

LABEL_WIDTH = 240  # the process names left of the plot
PLOT_WIDTH = 900
ROW_HEIGHT = 8
ROW_GAP = 2
LANE_GAP = 10  # between two processes' lanes
AXIS_HEIGHT = 24  # the tick labels above the plot
MIN_BAR = 1.0  # a task of a few milliseconds still shows
RIGHT_PAD = 30  # room for the last tick label
ZOOMS = (1, 2, 4, 8, 16)
_STEPS = tuple(
    timedelta(seconds=s)
    for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
)
MAX_TICKS = 10


@dataclass(frozen=True)
class Bar:
    """One drawn attempt: the waiting part `[x_submit, x_start)`, the running part
    `[x_start, x_end]`, its row's top `y`, and what its tooltip says."""

    task_id: int
    execution: str
    name: str
    status: str
    attempt: int
    x_submit: float
    x_start: float
    x_end: float
    y: float
    row: int
    open: bool  # not completed: drawn up to `now`
    started: bool
    submitted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None

    @property
    def wait_width(self) -> float:
        return self.x_start - self.x_submit

    @property
    def width(self) -> float:
        return self.x_end - self.x_start

    @property
    def title(self) -> str:
        """`STAR_ALIGN (s1) · COMPLETED · attempt 2 · submitted … · started … · completed …`."""
        parts = [self.name, self.status]
        if self.attempt > 1:
            parts.append(f"attempt {self.attempt}")
        for label, value in (("submitted", self.submitted_at), ("started", self.started_at)):
            if value is not None:
                parts.append(f"{label} {stamp(value)}")
        parts.append(f"completed {stamp(self.completed_at)}" if self.completed_at else "not completed")
        return " · ".join(parts)


@dataclass(frozen=True)
class Lane:
    """One process: its label, where its rows are, its bars, and what is not drawn."""

    process: str
    y: float
    height: float
    rows: int
    bars: tuple[Bar, ...]
    cached: int
    undrawn: int  # attempts without any time (not yet submitted, or not reported)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    origin: datetime | None
    end: datetime | None
    width: float
    height: float
    plot_x: float
    plot_width: float
    lanes: tuple[Lane, ...]
    ticks: tuple[Tick, ...]

    @property
    def bars(self) -> int:
        return sum(len(lane.bars) for lane in self.lanes)

    @property
    def cached(self) -> int:
        return sum(lane.cached for lane in self.lanes)


def stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value.utcoffset() in (None, timedelta(0)) else value.isoformat()


def elapsed(delta: timedelta) -> str:
    """`0`, `45s`, `5m`, `1h 30m`, `2d 3h`: a tick's offset from the first submission."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    units = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{n}{u}" for n, u in units if n]
    return " ".join(shown[:2])


def _times(task: TaskRecord, now: datetime) -> tuple[datetime, datetime, datetime] | None:
    """(submitted, started, ended) of a drawable attempt, made monotonic; None when it has no time."""
    submitted = task.submitted_at or task.started_at or task.completed_at
    if submitted is None:
        return None
    started = task.started_at or task.completed_at or max(submitted, now)
    started = max(started, submitted)
    ended = task.completed_at if task.completed_at is not None else max(now, started)
    return submitted, started, max(ended, started)


def ticks(origin: datetime, end: datetime, plot_x: float, plot_width: float) -> tuple[Tick, ...]:
    """Ticks at the smallest round step giving at most MAX_TICKS across the span."""
    span = end - origin
    if span <= timedelta(0):
        return (Tick(plot_x, "0"),)
    step = next((s for s in _STEPS if span / s <= MAX_TICKS), None)
    if step is None:
        step = timedelta(days=-(-span.days // MAX_TICKS) or 1)
    found, offset = [], timedelta(0)
    while offset <= span:
        found.append(Tick(plot_x + plot_width * (offset / span), elapsed(offset)))
        offset += step
    return tuple(found)


def layout(tasks: Sequence[TaskRecord], *, now: datetime, zoom: int = 1) -> Timeline:
    """The timeline of `tasks` (any order); `now` ends the attempts still running
    (the run's completion, or the current time for a live run); `zoom` widens the plot."""
    plot_width = PLOT_WIDTH * max(1, zoom)
    placed: list[tuple[TaskRecord, tuple[datetime, datetime, datetime]]] = []
    cached: dict[str, int] = {}
    undrawn: dict[str, int] = {}
    order: dict[str, tuple[datetime | None, int]] = {}
    for task in tasks:
        process = task.process or task.name or "(unnamed)"
        times = None if task.status is TaskStatus.CACHED else _times(task, now)
        first = times[0] if times else None
        seen = order.get(process)
        if seen is None:
            order[process] = (first, len(order))
        elif first is not None and (seen[0] is None or first < seen[0]):
            order[process] = (first, seen[1])
        if task.status is TaskStatus.CACHED:
            cached[process] = cached.get(process, 0) + 1
        elif times is None:
            undrawn[process] = undrawn.get(process, 0) + 1
        else:
            placed.append((task, times))
    origin = min((t[0] for _, t in placed), default=None)
    end = max((t[2] for _, t in placed), default=None)
    span = (end - origin).total_seconds() if origin and end else 0.0

    def x(value: datetime) -> float:
        if origin is None or span <= 0:
            return LABEL_WIDTH
        return LABEL_WIDTH + plot_width * min(1.0, max(0.0, (value - origin).total_seconds() / span))

    by_process: dict[str, list[tuple[TaskRecord, tuple[datetime, datetime, datetime]]]] = {}
    for item in placed:
        by_process.setdefault(item[0].process or item[0].name or "(unnamed)", []).append(item)
    processes = sorted(order, key=lambda p: (order[p][0] is None, order[p][0] or datetime.min, order[p][1]))
    right = LABEL_WIDTH + plot_width
    lanes, y = [], float(AXIS_HEIGHT)
    for process in processes:
        items = sorted(by_process.get(process, []), key=lambda item: (item[1][0], item[1][1], item[0].task_id))
        row_ends: list[float] = []  # the right edge of each row's last bar
        bars = []
        for task, (submitted, started, ended) in items:
            x_submit, x_start = x(submitted), x(started)
            x_end = min(right, max(x(ended), x_start + MIN_BAR))
            x_start = min(x_start, x_end - MIN_BAR)
            x_submit = min(x_submit, x_start)
            row = next((i for i, edge in enumerate(row_ends) if edge <= x_submit), len(row_ends))
            if row == len(row_ends):
                row_ends.append(x_end)
            row_ends[row] = x_end
            bars.append(
                Bar(
                    task_id=task.task_id,
                    execution=task.execution,
                    name=task.name or f"task {task.task_id}",
                    status=task.status.value,
                    attempt=task.attempt,
                    x_submit=x_submit,
                    x_start=x_start,
                    x_end=x_end,
                    y=y + row * (ROW_HEIGHT + ROW_GAP),
                    row=row,
                    open=task.completed_at is None,
                    started=task.started_at is not None,
                    submitted_at=task.submitted_at,
                    started_at=task.started_at,
                    completed_at=task.completed_at,
                )
            )
        rows = max(1, len(row_ends))
        height = rows * (ROW_HEIGHT + ROW_GAP) - ROW_GAP
        lanes.append(
            Lane(
                process=process,
                y=y,
                height=height,
                rows=len(row_ends),
                bars=tuple(bars),
                cached=cached.get(process, 0),
                undrawn=undrawn.get(process, 0),
            )
        )
        y += height + LANE_GAP
    return Timeline(
        origin=origin,
        end=end,
        width=right + RIGHT_PAD,
        height=y,
        plot_x=LABEL_WIDTH,
        plot_width=plot_width,
        lanes=tuple(lanes),
        ticks=ticks(origin, end, LABEL_WIDTH, plot_width) if origin and end else (),
    )
