"""Waiting with a deadline: `--timeout` durations, a polling loop that gives up with
exit code 124, and a single progress line on stderr when stderr is a terminal."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import click

from tracker.cli.errors import EXIT_TIMEOUT, CliError

T = TypeVar("T")
EXIT_INTERRUPTED = 130  # Ctrl-C during --wait (128 + SIGINT, as shells report it); the job goes on
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """`30s`, `5m`, `1h`, `1h30m`, `1.5h` (Go-style, as kubectl's --timeout) in seconds."""
    cleaned = text.strip()
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"{text!r} is not a duration: use e.g. 30s, 5m, 1h or 1h30m")
    seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return seconds


def format_duration(seconds: float) -> str:
    """`90` -> `1m30s`; `3600` -> `1h`; fractions of a second below 10 s are kept (`0.5s`)."""
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:g}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


class Duration(click.ParamType[float, Any]):
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_duration(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


@dataclass
class Clock:
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


class TimedOut(Exception):
    """The deadline passed; `last` is the last value fetched."""

    def __init__(self, last: Any) -> None:
        super().__init__("timed out")
        self.last = last


@dataclass
class Deadline:
    """A point in time (monotonic) the whole command must finish by."""

    seconds: float
    clock: Clock = field(default_factory=Clock)
    start: float = -1.0

    def __post_init__(self) -> None:
        if self.start < 0:
            self.start = self.clock.monotonic()

    @property
    def remaining(self) -> float:
        return self.start + self.seconds - self.clock.monotonic()

    @property
    def elapsed(self) -> float:
        return self.clock.monotonic() - self.start


def poll(
    fetch: Callable[[], T],
    until: Callable[[T], bool],
    *,
    within: float,
    clock: Clock | None = None,
    interval: float = 0.25,
    max_interval: float = 1.0,
    on_update: Callable[[T], None] | None = None,
) -> T:
    """`fetch()` until `until(value)`, for at most `within` seconds (then `TimedOut`).
    The interval grows from `interval` to `max_interval`."""
    clock = clock or Clock()
    deadline = clock.monotonic() + within
    while True:
        value = fetch()
        if on_update is not None:
            on_update(value)
        if until(value):
            return value
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            raise TimedOut(value)
        clock.sleep(min(interval, remaining))
        interval = min(interval * 1.5, max_interval)


class ProgressLine:
    """One line on stderr rewritten in place, only when stderr is a terminal."""

    def __init__(self, stream: IO[str] | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._shown = False

    def update(self, text: str) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K" + text)
            self.stream.flush()
            self._shown = True

    def clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


def timed_out(what: str, seconds: float, hint: str = "") -> CliError:
    return CliError(f"timed out after {format_duration(seconds)} waiting for {what}{hint}", EXIT_TIMEOUT)
