"""--timeout durations, the polling loop's deadline and the terminal progress line."""

from __future__ import annotations

import io

import pytest

from tracker.cli.wait import Clock, Deadline, ProgressLine, TimedOut, format_duration, parse_duration, poll


class FakeClock(Clock):
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        super().__init__(monotonic=lambda: self.now, sleep=self._sleep)

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("500ms", 0.5),
        (" 2m ", 120),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "5x", "m", "-5m", "0s", "1h 30m", "5m30"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1, "1s"), (0.5, "0.5s"), (90, "1m30s"), (3600, "1h"), (1800, "30m"), (3725, "1h2m5s"), (0, "0s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_poll_returns_the_first_value_that_satisfies() -> None:
    clock, values = FakeClock(), iter([None, None, "Enqueued", "Succeeded"])
    seen: list[object] = []
    assert (
        poll(lambda: next(values), lambda v: v == "Succeeded", within=60, clock=clock, on_update=seen.append)
        == "Succeeded"
    )
    assert seen == [None, None, "Enqueued", "Succeeded"]
    assert clock.sleeps == [0.25, 0.375, 0.5625]  # growing towards max_interval


def test_poll_gives_up_at_the_deadline_with_the_last_value() -> None:
    clock = FakeClock()
    with pytest.raises(TimedOut) as timeout:
        poll(lambda: "Running", lambda v: False, within=2, clock=clock, interval=1, max_interval=1)
    assert timeout.value.last == "Running"
    assert clock.now == pytest.approx(102)


def test_deadline_counts_down() -> None:
    clock = FakeClock()
    deadline = Deadline(10, clock=clock)
    clock.now += 4
    assert (deadline.remaining, deadline.elapsed) == (6, 4)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_rewritten_line_on_a_terminal_and_nothing_otherwise() -> None:
    tty = Tty()
    line = ProgressLine(tty)
    line.update("delete_outputs running: 10 objects deleted")
    line.update("delete_outputs running: 20 objects deleted")
    line.clear()
    assert tty.getvalue() == (
        "\r\x1b[Kdelete_outputs running: 10 objects deleted\r\x1b[Kdelete_outputs running: 20 objects deleted\r\x1b[K"
    )
    pipe = io.StringIO()
    quiet = ProgressLine(pipe)
    quiet.update("anything")
    quiet.clear()
    assert pipe.getvalue() == ""
