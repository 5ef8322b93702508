"""Which finished runs the archiver removes from the cluster (the index keeps them).

A run is due when it is terminal (Succeeded, Failed, Aborted), finished at least
`after_seconds` ago (its completion time, else its last update), is still live (its
resource not already removed) and no lifecycle job on it is unfinished: a job Enqueued
or Running, or one the operator has not admitted yet. `after_seconds` 0 turns
archiving off. The store's candidate query (`tracker.store.archive`) is this rule in
SQL; `blocked_runs` and `finished_jobs` apply the lifecycle-job part to the resources
found in the cluster just before deleting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tracker.domain.records import JobPhase, Phase

TERMINAL_PHASES = tuple(p.value for p in Phase if p.terminal)


@dataclass(frozen=True)
class Candidate:
    """A run the index says is due, with what the archiver needs to remove it."""

    id: str
    namespace: str
    name: str
    run_name: str


def cutoff(now: datetime, after_seconds: int) -> datetime:
    """Runs that finished at or before this moment are due."""
    return now - timedelta(seconds=after_seconds)


def is_due(
    *,
    phase: str | None,
    finished_at: datetime | None,
    now: datetime,
    after_seconds: int,
    removed: bool = False,
    unfinished_jobs: int = 0,
) -> bool:
    """The archiving rule for one run (see the module docstring)."""
    if after_seconds <= 0 or removed or unfinished_jobs > 0:
        return False
    if phase not in TERMINAL_PHASES or finished_at is None:
        return False
    return finished_at <= cutoff(now, after_seconds)


def _finished(job: Mapping[str, Any]) -> bool:
    phase = (job.get("status") or {}).get("phase")
    return phase is not None and JobPhase(phase).finished


def _names(job: Mapping[str, Any]) -> set[str]:
    """What a lifecycle job resource names its run by: the run id admission resolved,
    else (not admitted yet) the run name or id the request gave."""
    run_id = (job.get("status") or {}).get("runId")
    ref = run_id or (job.get("spec") or {}).get("run")
    return {ref} if ref else set()


def blocked_runs(candidates: Iterable[Candidate], jobs: Iterable[Mapping[str, Any]]) -> set[str]:
    """Ids of the candidates that an unfinished lifecycle job resource names (by run
    name or id, in the run's namespace): they stay until it finishes."""
    candidates = list(candidates)
    blocked: set[str] = set()
    for job in jobs:
        if _finished(job):
            continue
        names, namespace = _names(job), (job.get("metadata") or {}).get("namespace")
        blocked |= {c.id for c in candidates if c.namespace == namespace and names & {c.id, c.run_name}}
    return blocked


def finished_jobs(candidates: Iterable[Candidate], jobs: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(namespace, name) of the finished lifecycle job resources on the candidates:
    they are removed with their run (their history stays in the index)."""
    by_namespace: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_namespace.setdefault(c.namespace, []).append(c)
    found = []
    for job in jobs:
        metadata = job.get("metadata") or {}
        runs = by_namespace.get(metadata.get("namespace", ""), [])
        names = _names(job)
        if _finished(job) and any(names & {c.id, c.run_name} for c in runs):
            found.append((metadata["namespace"], metadata["name"]))
    return found
