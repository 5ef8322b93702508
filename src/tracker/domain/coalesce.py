"""Status reports coalesced per run: a runner reporting every second (or a run with
10,000 tasks) must not cost an API server write per report.

Reports for one run merge into one pending patch (later values win; a `processes`
list is replaced whole, as a merge patch replaces lists). A pending patch is due
when it carries a phase (a state change is written at once) or has waited
`interval`. Pure: the caller passes the time and does the writing.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass
class _Pending:
    patch: dict[str, Any]
    since: datetime
    urgent: bool = False


@dataclass
class StatusCoalescer:
    interval: timedelta
    _pending: dict[Hashable, _Pending] = field(default_factory=dict)

    def add(self, key: Hashable, patch: dict[str, Any], now: datetime) -> None:
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending({}, now)
        pending.patch.update(patch)
        pending.urgent = pending.urgent or "phase" in patch

    def take_due(self, now: datetime) -> list[tuple[Hashable, dict[str, Any]]]:
        """The patches to write now, removed from the pending ones."""
        due = [key for key, p in self._pending.items() if p.urgent or now - p.since >= self.interval]
        return [(key, self._pending.pop(key).patch) for key in due]

    def take(self, key: Hashable) -> dict[str, Any] | None:
        """The key's pending patch, due or not (a flush before shutdown)."""
        pending = self._pending.pop(key, None)
        return pending.patch if pending is not None else None

    def drain(self) -> list[tuple[Hashable, dict[str, Any]]]:
        """Every pending patch, due or not (a flush before shutdown)."""
        drained = [(key, p.patch) for key, p in self._pending.items()]
        self._pending.clear()
        return drained

    def give_back(self, key: Hashable, patch: dict[str, Any], now: datetime) -> None:
        """A patch whose write failed: pending again, under anything newer."""
        newer = self._pending.pop(key, None)
        self.add(key, patch, now)
        if newer is not None:
            self.add(key, newer.patch, now)

    def next_due(self) -> datetime | None:
        if not self._pending:
            return None
        return min(p.since if p.urgent else p.since + self.interval for p in self._pending.values())

    def __len__(self) -> int:
        return len(self._pending)
