"""Kubernetes-style status conditions (`metav1.Condition`) as plain dictionaries.

A condition keeps its `lastTransitionTime` (and its message) while its status and
reason stay the same, so re-evaluating an unchanged state patches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Condition = dict[str, Any]


@dataclass(frozen=True)
class Desired:
    """What a condition should say now."""

    type: str
    status: bool
    reason: str
    message: str


def rfc3339(moment: datetime) -> str:
    """`2026-05-13T19:02:11Z`: UTC, whole seconds, as Kubernetes writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 time from a resource (`Z` or an offset), as an aware datetime."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def find(conditions: Sequence[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.get("type") == type_), None)


def is_true(conditions: Sequence[Condition], type_: str) -> bool:
    condition = find(conditions, type_)
    return condition is not None and condition.get("status") == "True"


def apply(conditions: Sequence[Condition], desired: Desired, now: datetime) -> list[Condition]:
    """`conditions` with `desired` merged in; other conditions are kept as they are."""
    status = "True" if desired.status else "False"
    current = find(conditions, desired.type)
    if current is not None and current.get("status") == status and current.get("reason") == desired.reason:
        return list(conditions)
    updated = {
        "type": desired.type,
        "status": status,
        "reason": desired.reason,
        "message": desired.message,
        "lastTransitionTime": rfc3339(now),
    }
    others = [c for c in conditions if c.get("type") != desired.type]
    return [*others, updated]


def transitions(before: Sequence[Condition], after: Sequence[Condition]) -> list[Condition]:
    """The conditions of `after` whose status or reason differs from `before`."""
    changed = []
    for condition in after:
        old = find(before, condition["type"])
        if old is None or old.get("status") != condition["status"] or old.get("reason") != condition["reason"]:
            changed.append(condition)
    return changed
