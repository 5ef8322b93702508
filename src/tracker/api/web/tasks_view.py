"""The tasks view's query (`/runs/{run}/tasks`): the filters of
`GET /api/v1/runs/{run}/tasks` it offers (process, status, search by name, tag or
hash), the sort and the page, read from the URL (a bad value is ignored with a
message, falling back to the default) and written back into links that keep the
run's `?namespace=`; and the columns of its task table. Pure functions."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from tracker.api.web import formats
from tracker.api.web.presenters import process_short_name
from tracker.domain.cost import human_size
from tracker.domain.tasks import TaskStatus
from tracker.store.tasks import MAX_SEARCH

DEFAULT_SORT = "task_id"
PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000
STATUSES = tuple(status.value for status in TaskStatus)


@dataclass(frozen=True)
class Column:
    key: str  # what the cell shows; also the sort key when `sortable`
    label: str
    numeric: bool = False
    sortable: bool = True

    @property
    def descending_first(self) -> bool:
        return self.numeric and self.key not in ("task_id", "attempt")


# The task table's columns, in order; every sortable one is a sort key of the store.
TASK_COLUMNS = (
    Column("task_id", "Task", numeric=True),
    Column("name", "Name"),
    Column("process", "Process"),
    Column("status", "Status"),
    Column("attempt", "Attempt", numeric=True),
    Column("exit_code", "Exit", numeric=True),
    Column("duration_ms", "Duration", numeric=True),
    Column("realtime_ms", "Realtime", numeric=True),
    Column("cpus", "CPUs", numeric=True),
    Column("memory_bytes", "Memory", numeric=True),
    Column("pcpu", "%CPU", numeric=True),
    Column("peak_rss", "Peak RSS", numeric=True),
    Column("read_bytes", "Read", numeric=True),
    Column("write_bytes", "Written", numeric=True),
    Column("hash", "Hash", sortable=False),
)


@dataclass(frozen=True)
class TasksQuery:
    """What the tasks view shows, and where it lives (`path`, `namespace`)."""

    path: str = ""
    namespace: str | None = None
    process: str | None = None
    statuses: tuple[str, ...] = ()
    search: str | None = None
    sort: str = DEFAULT_SORT
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def filtered(self) -> bool:
        return bool(self.process or self.statuses or self.search)

    def url(self, **changes: Any) -> str:
        """This view with these changes; defaults are left out, the namespace kept."""
        target = replace(self, **changes)
        pairs = [
            (name, value) for name, value in (("namespace", target.namespace), ("process", target.process)) if value
        ]
        pairs += [("status", s) for s in target.statuses]
        if target.search:
            pairs.append(("q", target.search))
        if target.sort != DEFAULT_SORT:
            pairs.append(("sort", target.sort))
        if target.per_page != PER_PAGE:
            pairs.append(("per_page", str(target.per_page)))
        if target.page != 1:
            pairs.append(("page", str(target.page)))
        return target.path + ("?" + urlencode(pairs) if pairs else "")


def parse_tasks_query(
    params: Iterable[tuple[str, str]], *, path: str, processes: Collection[str]
) -> tuple[TasksQuery, list[str]]:
    """The view's query from the URL's parameters (`processes`: the run's process
    names, the only ones a filter may name), and a message for each value ignored."""
    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).append(value)

    def first(name: str) -> str | None:
        found = (values.get(name) or [""])[0].strip()
        return found or None

    notes: list[str] = []
    process = first("process")
    if process is not None and process not in processes:
        notes.append(f"Ignored process {process!r}: this run has no task of it.")
        process = None
    statuses: list[str] = []
    for status in values.get("status", []):
        wanted = status.strip().upper()
        if wanted in STATUSES and wanted not in statuses:
            statuses.append(wanted)
        elif wanted and wanted not in STATUSES:
            notes.append(f"Ignored status {status!r}: it is not one of {', '.join(STATUSES)}.")
    search = first("q")
    if search is not None and (len(search) > MAX_SEARCH or "\x00" in search):
        notes.append(f"Ignored the search: give at most {MAX_SEARCH} characters.")
        search = None
    sort = first("sort") or DEFAULT_SORT
    if sort.removeprefix("-") not in {c.key for c in TASK_COLUMNS if c.sortable}:
        notes.append(f"Ignored sort {sort!r}: select a column heading to sort.")
        sort = DEFAULT_SORT
    query = TasksQuery(
        path=path,
        namespace=first("namespace"),
        process=process,
        statuses=tuple(statuses),
        search=search,
        sort=sort,
        page=_number(first("page"), 1, MAX_PAGE, "page", notes),
        per_page=_number(first("per_page"), PER_PAGE, MAX_PER_PAGE, "per_page", notes),
    )
    return query, notes


def _number(text: str | None, default: int, high: int, name: str, notes: list[str]) -> int:
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= high:
        notes.append(f"Ignored {name} {text!r}: give a whole number from 1 to {high}.")
        return default
    return int(text)


def headings(query: TasksQuery, columns: Sequence[Column] = TASK_COLUMNS) -> list[dict[str, Any]]:
    """The table's column headings: each sortable one links to its next sort (back
    to page 1) and carries `aria-sort` when it is the current one."""
    return [
        {
            "key": c.key,
            "label": c.label,
            "numeric": c.numeric,
            "aria_sort": formats.aria_sort(query.sort, c.key) if c.sortable else None,
            "href": query.url(sort=formats.next_sort(query.sort, c.key, descending_first=c.descending_first), page=1)
            if c.sortable
            else None,
        }
        for c in columns
    ]


def process_choices(names: Iterable[str]) -> list[tuple[str, str]]:
    """(value, label) per process: its short name, or its full name when two
    processes share the short one."""
    names = list(names)
    shorts = [process_short_name(n) for n in names]
    return [(n, s if shorts.count(s) == 1 else n) for n, s in zip(names, shorts, strict=True)]


def size(value: float | None) -> str:
    return formats.NONE if value is None else human_size(int(value))


def millis(value: float | None) -> str:
    """A duration in milliseconds: `4m 0s`; `0.3s` under ten seconds."""
    if value is None:
        return formats.NONE
    return f"{value / 1000:.1f}s" if value < 10_000 else formats.human_duration(value / 1000)


def percent(value: float | None) -> str:
    """%CPU as Nextflow reports it (`187.3%`: nearly two CPUs busy)."""
    return formats.NONE if value is None else f"{value:.1f}%"


def share(value: float | None) -> str:
    return formats.NONE if value is None else f"{value:.0%}"


_CELLS = {
    "duration_ms": millis,
    "realtime_ms": millis,
    "memory_bytes": size,
    "peak_rss": size,
    "read_bytes": size,
    "write_bytes": size,
    "pcpu": percent,
}


def cell(task: Any, key: str) -> str:
    """What a task table cell shows for the column `key` of `task` (a `schemas.Task`)."""
    value = getattr(task, key)
    shown = _CELLS.get(key)
    if shown is not None:
        return shown(value)
    return formats.NONE if value is None else str(value)
