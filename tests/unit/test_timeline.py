"""The Task Timeline's geometry (`tracker.domain.timeline`): lanes per process in
order of first submission, rows packed without overlap, times to x positions,
attempts still open drawn to `now`, cached and untimed attempts counted apart, round
ticks; and, for any attempts, every bar inside the drawing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain import timeline as tl
from tracker.domain.tasks import TaskRecord, TaskStatus

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def attempt(
    task_id: int,
    process: str,
    submit: float | None,
    start: float | None,
    end: float | None,
    status: TaskStatus = TaskStatus.COMPLETED,
    attempt: int = 1,
) -> TaskRecord:
    return TaskRecord(
        "e1",
        task_id,
        status,
        name=f"{process.split(':')[-1]} ({task_id})",
        process=process,
        attempt=attempt,
        submitted_at=at(submit) if submit is not None else None,
        started_at=at(start) if start is not None else None,
        completed_at=at(end) if end is not None else None,
    )


def test_lanes_follow_first_submission_and_rows_pack_concurrent_attempts() -> None:
    drawing = tl.layout(
        [
            attempt(3, "P:ALIGN", 10, 12, 40),
            attempt(1, "P:FASTQC", 0, 1, 10),
            attempt(2, "P:FASTQC", 0, 2, 20),
            attempt(4, "P:FASTQC", 11, 12, 30),  # after task 1 ended: reuses its row
        ],
        now=at(40),
    )
    assert [lane.process for lane in drawing.lanes] == ["P:FASTQC", "P:ALIGN"]
    fastqc, align = drawing.lanes
    assert (fastqc.rows, align.rows) == (2, 1)
    assert [(bar.task_id, bar.row) for bar in fastqc.bars] == [(1, 0), (2, 1), (4, 0)]
    assert align.y > fastqc.y + fastqc.height
    assert (drawing.origin, drawing.end) == (at(0), at(40))
    first = fastqc.bars[0]
    assert first.x_submit == tl.LABEL_WIDTH
    assert first.x_start == tl.LABEL_WIDTH + tl.PLOT_WIDTH * (1 / 40)
    assert first.x_end == tl.LABEL_WIDTH + tl.PLOT_WIDTH * (10 / 40)
    assert align.bars[0].x_end == tl.LABEL_WIDTH + tl.PLOT_WIDTH


def test_open_attempts_end_at_now_cached_and_untimed_are_counted() -> None:
    drawing = tl.layout(
        [
            attempt(1, "A", 0, 5, 10),
            attempt(2, "A", 2, 6, None, TaskStatus.RUNNING),
            attempt(3, "A", 4, None, None, TaskStatus.SUBMITTED),
            attempt(4, "A", None, None, None, TaskStatus.NEW),
            attempt(5, "A", -600, -590, -580, TaskStatus.CACHED),  # an earlier execution's times
        ],
        now=at(20),
    )
    (lane,) = drawing.lanes
    assert (lane.cached, lane.undrawn, len(lane.bars)) == (1, 1, 3)
    assert (drawing.origin, drawing.end) == (at(0), at(20))  # the cached times do not stretch the axis
    running, submitted = lane.bars[1], lane.bars[2]
    assert running.open
    assert running.x_end == tl.LABEL_WIDTH + tl.PLOT_WIDTH
    assert "RUNNING" in running.title
    assert "not completed" in running.title
    assert not submitted.started
    assert submitted.width >= tl.MIN_BAR


def test_retried_attempts_and_titles() -> None:
    drawing = tl.layout([attempt(1, "A", 0, 1, 5, TaskStatus.RETRIED), attempt(2, "A", 5, 6, 9, attempt=2)], now=at(9))
    retried, second = drawing.lanes[0].bars
    assert (retried.status, second.attempt) == ("RETRIED", 2)
    assert second.title == "A (2) · COMPLETED · attempt 2 · submitted 2026-05-13T19:05:00Z · " + (
        "started 2026-05-13T19:06:00Z · completed 2026-05-13T19:09:00Z"
    )


def test_zoom_widens_the_plot_and_ticks_are_round() -> None:
    tasks = [attempt(1, "A", 0, 0, 125)]
    wide = tl.layout(tasks, now=at(125), zoom=4)
    assert wide.plot_width == 4 * tl.PLOT_WIDTH
    assert wide.lanes[0].bars[0].x_end == tl.LABEL_WIDTH + 4 * tl.PLOT_WIDTH
    labels = [tick.label for tick in wide.ticks]
    assert labels == ["0", "15m", "30m", "45m", "1h", "1h 15m", "1h 30m", "1h 45m", "2h"]
    empty = tl.layout([], now=T0)
    assert (empty.lanes, empty.ticks) == ((), ())


def test_elapsed_labels() -> None:
    assert [tl.elapsed(timedelta(seconds=s)) for s in (0, 45, 300, 5400, 183_600)] == [
        "0",
        "45s",
        "5m",
        "1h 30m",
        "2d 3h",
    ]


offsets = st.one_of(st.none(), st.floats(min_value=-1e4, max_value=1e4, allow_nan=False))
attempts = st.builds(
    attempt,
    task_id=st.integers(min_value=0, max_value=10**6),
    process=st.sampled_from(["A", "B:C", "D:E:F"]),
    submit=offsets,
    start=offsets,
    end=offsets,
    status=st.sampled_from(list(TaskStatus)),
    attempt=st.integers(min_value=1, max_value=4),
)


@settings(max_examples=300, deadline=None)
@given(tasks=st.lists(attempts, max_size=60), now=offsets, zoom=st.sampled_from(tl.ZOOMS))
def test_every_bar_is_inside_the_drawing_and_rows_never_overlap(
    tasks: list[TaskRecord], now: float | None, zoom: int
) -> None:
    drawing = tl.layout(tasks, now=at(now or 0), zoom=zoom)
    timed = [
        t for t in tasks if t.status is not TaskStatus.CACHED and (t.submitted_at or t.started_at or t.completed_at)
    ]
    assert drawing.bars == len(timed)
    assert drawing.cached == sum(t.status is TaskStatus.CACHED for t in tasks)
    right = drawing.plot_x + drawing.plot_width
    for lane in drawing.lanes:
        assert lane.y >= 0
        assert lane.y + lane.height <= drawing.height
        rows: dict[int, list[tl.Bar]] = {}
        for bar in lane.bars:
            assert drawing.plot_x <= bar.x_submit <= bar.x_start < bar.x_end <= right <= drawing.width
            assert bar.width >= tl.MIN_BAR - 1e-9
            assert lane.y <= bar.y
            assert bar.y + tl.ROW_HEIGHT <= lane.y + lane.height
            rows.setdefault(bar.row, []).append(bar)
        for row in rows.values():
            for before, after in itertools.pairwise(row):
                assert before.x_start <= after.x_start
                assert before.x_end <= after.x_submit
    for tick in drawing.ticks:
        assert drawing.plot_x <= tick.x <= right
