"""The runs list's query: the filters of `GET /api/v1/runs` it offers (state,
owner, cluster, name search), the sort and the page, read from the URL (a bad value
is ignored with a message) and written back into links; and where a page sits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from tracker.api.web.formats import STATES

MAX_PAGE = 1_000_000
# (sort key or None, heading, whether its first click sorts descending)
LIST_COLUMNS = (
    ("run_name", "Run", False),
    ("state", "State", False),
    ("owner", "Owner", False),
    ("cluster", "Cluster", False),
    ("created_at", "Created", True),
    (None, "Duration", False),
    ("cost", "Cost", True),
    ("outputs_bytes", "Outputs", True),
)
LIST_SORTS = tuple(key for key, _, _ in LIST_COLUMNS if key is not None)
DEFAULT_SORT = "-created_at"
PER_PAGE = 25
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class ListQuery:
    """What the runs list shows: the filters of `GET /api/v1/runs` it offers, the
    sort and the page."""

    states: tuple[str, ...] = ()
    owner: str | None = None
    cluster: str | None = None
    search: str | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def url(self, **changes: Any) -> str:
        """`/runs?...` with these changes; defaults are left out."""
        target = replace(self, **changes)
        pairs = [("state", s) for s in target.states]
        pairs += [
            (name, value)
            for name, value in (("owner", target.owner), ("cluster", target.cluster), ("q", target.search))
            if value
        ]
        if target.sort != DEFAULT_SORT:
            pairs.append(("sort", target.sort))
        if target.per_page != PER_PAGE:
            pairs.append(("per_page", str(target.per_page)))
        if target.page != 1:
            pairs.append(("page", str(target.page)))
        return "/runs" + ("?" + urlencode(pairs) if pairs else "")


def parse_list_query(params: Iterable[tuple[str, str]]) -> tuple[ListQuery, list[str]]:
    """The runs list's query from the URL's parameters, and a message for each value
    ignored because it is not valid (unknown parameters are ignored silently)."""
    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).append(value)
    notes: list[str] = []
    states = []
    for state in values.get("state", []):
        if state in STATES and state not in states:
            states.append(state)
        elif state and state not in STATES:
            notes.append(f"Ignored state {state!r}: it is not one of {', '.join(STATES)}.")

    def text(name: str) -> str | None:
        found = (values.get(name) or [""])[0].strip()
        return found or None

    sort = text("sort") or DEFAULT_SORT
    if sort.removeprefix("-") not in LIST_SORTS:
        notes.append(f"Ignored sort {sort!r}: sort by one of {', '.join(LIST_SORTS)} ('-' first for descending).")
        sort = DEFAULT_SORT
    page = _number(text("page"), 1, 1, MAX_PAGE, "page", notes)
    per_page = _number(text("per_page"), PER_PAGE, 1, MAX_PER_PAGE, "per_page", notes)
    query = ListQuery(
        states=tuple(states),
        owner=text("owner"),
        cluster=text("cluster"),
        search=text("q"),
        sort=sort,
        page=page,
        per_page=per_page,
    )
    return query, notes


def _number(text: str | None, default: int, low: int, high: int, name: str, notes: list[str]) -> int:
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        notes.append(f"Ignored {name} {text!r}: give a whole number from {low} to {high}.")
        return default
    return int(text)


@dataclass(frozen=True)
class Pagination:
    total: int
    page: int
    pages: int
    first: int  # 1-based index of the first row shown (0 when none)
    last: int
    previous: int | None
    next: int | None


def paginate(total: int, page: int, per_page: int, shown: int) -> Pagination:
    """Where a page of `shown` rows sits among `total`."""
    pages = max(1, -(-total // per_page))
    first = (page - 1) * per_page + 1 if shown else 0
    return Pagination(
        total=total,
        page=page,
        pages=pages,
        first=first,
        last=first + shown - 1 if shown else 0,
        previous=min(page - 1, pages) if page > 1 else None,
        next=page + 1 if page < pages else None,
    )
