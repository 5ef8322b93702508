"""Printing resources as kubectl does: tables from the CRDs' printer columns (blank
cells for missing values, ages for dates, `-o wide` adds the priority-1 columns),
JSON, YAML and `kind.group/name`; and the small text helpers the commands share.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from tracker.domain.conditions import parse_time, rfc3339
from tracker.kube.resources import GROUP, JOB_KIND, RUN_KIND

OUTPUT_FORMATS = ("wide", "json", "yaml", "name")
MIN_WIDTH, PADDING = 6, 3  # kubectl's tabwriter: minimal cell width and padding


@dataclass(frozen=True)
class Column:
    """One printer column: `path` is the CRD's jsonPath as a tuple of keys."""

    name: str
    path: tuple[str, ...]
    type: str = "string"
    priority: int = 0


def _path(json_path: str) -> tuple[str, ...]:
    return tuple(json_path.lstrip(".").split("."))


# The CRDs' additionalPrinterColumns (crds/*.yaml; a unit test keeps them equal).
RUN_COLUMNS = (
    Column("Run", _path(".spec.runName")),
    Column("State", _path(".status.state")),
    Column("Owner", _path(".spec.owner")),
    Column("Cluster", _path(".spec.cluster")),
    Column("Last Heartbeat", _path(".status.lastHeartbeatTime"), "date"),
    Column("Outputs", _path(".status.outputs.size")),
    Column("Age", _path(".metadata.creationTimestamp"), "date"),
    Column("Engine", _path(".spec.engine"), priority=1),
    Column("Id", _path(".status.id"), priority=1),
)
JOB_COLUMNS = (
    Column("Run", _path(".spec.run")),
    Column("Operation", _path(".spec.operation")),
    Column("Phase", _path(".status.phase")),
    Column("Reason", _path(".status.reason")),
    Column("Requested By", _path(".spec.requestedBy")),
    Column("Age", _path(".metadata.creationTimestamp"), "date"),
    Column("Job Id", _path(".status.jobId"), priority=1),
    Column("Kubernetes Job", _path(".status.kubernetesJob"), priority=1),
    Column("Shards", _path(".status.shardCount"), "integer", priority=1),
    Column("Deleted", _path(".status.objectsDeleted"), "integer", priority=1),
)
COLUMNS = {RUN_KIND: RUN_COLUMNS, JOB_KIND: JOB_COLUMNS}


def dig(obj: Mapping[str, Any], path: Sequence[str]) -> Any:
    value: Any = obj
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def human_duration(seconds: float) -> str:
    """kubectl's ages (`k8s.io/apimachinery/pkg/util/duration.HumanDuration`)."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return f"{minutes}m" if whole % 60 == 0 else f"{minutes}m{whole % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, hours // 24 % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def age(timestamp: str | datetime | None, now: datetime | None = None) -> str:
    """How long ago `timestamp` was, as kubectl prints it; `<unknown>` without one."""
    moment = parse_time(timestamp) if isinstance(timestamp, str) else timestamp
    if moment is None:
        return "<unknown>"
    return human_duration(((now or datetime.now(UTC)) - moment).total_seconds())


def cell(obj: Mapping[str, Any], column: Column, now: datetime) -> str:
    value = dig(obj, column.path)
    if value is None:
        return ""
    if column.type == "date":
        try:
            return age(str(value), now)
        except ValueError:
            return "<invalid>"
    text = value if isinstance(value, str) else json.dumps(value)
    for breakchar in "\f\n\r":  # as kubectl: the first line only
        if breakchar in text:
            text = text.split(breakchar)[0] + "..."
    return text


class Table:
    """Rows aligned as kubectl's tabwriter does (3 spaces padding, minimal width 6; the
    last cell of a row is not padded). Later rows (a watch) keep the columns' widths,
    growing them when a cell is wider."""

    def __init__(self, rows: Iterable[Sequence[str]] = ()) -> None:
        self.widths: list[int] = []
        self._measure([list(r) for r in rows])

    def _measure(self, rows: list[list[str]]) -> None:
        for r in rows:
            for i, c in enumerate(r[:-1]):
                if i >= len(self.widths):
                    self.widths.append(MIN_WIDTH)
                self.widths[i] = max(self.widths[i], len(c) + PADDING)

    def format(self, rows: Iterable[Sequence[str]]) -> str:
        cells = [list(r) for r in rows]
        self._measure(cells)
        return "".join(
            "".join(c if i == len(r) - 1 else c.ljust(self.widths[i]) for i, c in enumerate(r)) + "\n" for r in cells
        )


def table(rows: Iterable[Sequence[str]]) -> str:
    rows = [list(r) for r in rows]
    return Table(rows).format(rows)


def headers(kind: str, *, wide: bool, with_namespace: bool) -> list[str]:
    names = ["NAME"] + [c.name.upper() for c in COLUMNS[kind] if wide or c.priority == 0]
    return ["NAMESPACE", *names] if with_namespace else names


def row(obj: Mapping[str, Any], *, wide: bool, with_namespace: bool, now: datetime | None = None) -> list[str]:
    now = now or datetime.now(UTC)
    metadata = obj.get("metadata") or {}
    cells = [metadata.get("name", "")]
    cells += [cell(obj, c, now) for c in COLUMNS[obj["kind"]] if wide or c.priority == 0]
    return [metadata.get("namespace", ""), *cells] if with_namespace else cells


def table_rows(
    objs: Sequence[Mapping[str, Any]],
    kind: str,
    *,
    wide: bool = False,
    with_namespace: bool = False,
    now: datetime | None = None,
) -> list[list[str]]:
    """The header and one row per object."""
    header = headers(kind, wide=wide, with_namespace=with_namespace)
    return [header] + [row(o, wide=wide, with_namespace=with_namespace, now=now) for o in objs] if objs else []


def resource_table(
    objs: Sequence[Mapping[str, Any]],
    kind: str,
    *,
    wide: bool = False,
    with_namespace: bool = False,
    now: datetime | None = None,
) -> str:
    return table(table_rows(objs, kind, wide=wide, with_namespace=with_namespace, now=now))


def name(obj: Mapping[str, Any]) -> str:
    """`workflowrun.tracker.dev/foo-run-001`, as `kubectl get -o name`."""
    return f"{obj['kind'].lower()}.{GROUP}/{obj['metadata']['name']}"


def printable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object without `metadata.managedFields`, as kubectl shows it."""
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": metadata}


def as_list(objs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "items": [printable(o) for o in objs],
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def to_yaml(obj: Any) -> str:
    return yaml.safe_dump(obj, default_flow_style=False, sort_keys=True, allow_unicode=True)


def render(
    objs: Sequence[Mapping[str, Any]],
    kind: str,
    output: str | None,
    *,
    single: bool = False,
    with_namespace: bool = False,
    now: datetime | None = None,
) -> str:
    """Objects in an output format: a table (`None` or `wide`), `json`, `yaml` or `name`.
    `single`: one object asked for by name prints as itself, not as a List."""
    if output in ("json", "yaml"):
        document = printable(objs[0]) if single and len(objs) == 1 else as_list(objs)
        return to_json(document) if output == "json" else to_yaml(document)
    if output == "name":
        return "".join(name(o) + "\n" for o in objs)
    return resource_table(objs, kind, wide=output == "wide", with_namespace=with_namespace, now=now)


def rfc3339_or_blank(moment: datetime | None) -> str:
    return rfc3339(moment) if moment is not None else ""
