"""How values look on every page: one CSS class per state, UTC times, human
durations, money, sortable column headings and query strings. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from tracker.domain.conditions import rfc3339
from tracker.domain.cost import usd
from tracker.domain.records import Phase
from tracker.domain.runhealth import DISCONNECTED, STALLED

STATES = (*(phase.value for phase in Phase), DISCONNECTED, STALLED)
NONE = "—"  # what an unknown value shows


def state_class(state: str | None) -> str:
    """`Running` -> `state-running`: the one CSS class per state, used by every page."""
    return f"state-{state.lower()}" if state in STATES else "state-unknown"


def job_phase_class(phase: str | None) -> str:
    """Lifecycle job phases share the state colours (Enqueued looks like Submitted)."""
    return state_class("Submitted" if phase == "Enqueued" else phase)


def when(moment: datetime | None) -> str:
    """`2026-05-13T19:02:11Z` (UTC); a naive time is taken as UTC."""
    if moment is None:
        return NONE
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return rfc3339(moment)


def human_duration(seconds: float | None) -> str:
    """`45s`, `5m 3s`, `1h 0m`, `2d 3h`; `—` when unknown."""
    if seconds is None:
        return NONE
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def money(amount: float | None) -> str:
    """USD with two decimals (`$3.50`); `—` when unknown."""
    return NONE if amount is None else usd(amount)


def next_sort(current: str | None, column: str, *, descending_first: bool) -> str:
    """The sort a column heading links to: the other direction when it is the current
    sort, else its first direction."""
    if current == column:
        return "-" + column
    if current == "-" + column:
        return column
    return "-" + column if descending_first else column


def aria_sort(current: str | None, column: str) -> str | None:
    if current == column:
        return "ascending"
    if current == "-" + column:
        return "descending"
    return None


def query(**params: str | int | None) -> str:
    """`?tab=outputs&dir=qc%2F`: a query string of the given non-empty values, in order."""
    kept = [(name, str(value)) for name, value in params.items() if value not in (None, "")]
    return "?" + urlencode(kept) if kept else "?"
