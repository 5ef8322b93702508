"""Small result records the store returns besides `tracker.domain.records`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from tracker.domain.records import OutputObject


@dataclass(frozen=True)
class RunExecution:
    """A previous execution of a resumed run (same run, an earlier `started_at`)."""

    run_id: str
    started_at: datetime
    phase: str | None = None
    completed_at: datetime | None = None
    error_message: str | None = None
    cost: float | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class OutputDirectory:
    """A subdirectory in a listing: `name` ends in `/`; totals cover every row below
    it, `deleted` counts those marked deleted."""

    name: str
    count: int
    bytes: int
    deleted: int = 0


class OutputFile(NamedTuple):
    object: OutputObject
    deleted_at: datetime | None


class Listing(NamedTuple):
    """One directory level of a run's outputs, like `ls`."""

    directories: list[OutputDirectory]
    files: list[OutputFile]


class OutputMatch(NamedTuple):
    """One output row found by a search, with its run."""

    run_id: str
    run_name: str
    object: OutputObject
    deleted_at: datetime | None
