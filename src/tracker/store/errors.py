"""Errors the store raises; the API and CLI map them at the edge (404, 409, 422)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class StoreError(Exception):
    """Base of the store's own errors; the message is fit to show a user."""


class RunNotFound(StoreError, LookupError):
    """No run with that id (or run name) is in the index."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no run {ref!r} in the index")
        self.ref = ref


@dataclass(frozen=True)
class RunCandidate:
    """One of the runs an ambiguous run name may mean."""

    id: str
    namespace: str
    name: str
    run_name: str


class AmbiguousRun(StoreError, LookupError):
    """A run name that names several runs: used in several namespaces and given without
    a namespace, or (no live run having it) had by several removed runs. Carries every
    run it may mean (`candidates`, by namespace, in the order given within one)."""

    def __init__(self, ref: str, candidates: Sequence[RunCandidate]) -> None:
        self.candidates = tuple(sorted(candidates, key=lambda c: c.namespace))
        where = sorted({c.namespace for c in self.candidates})
        ids = [c.id for c in self.candidates]
        if len(where) > 1:
            message = (
                f"run name {ref!r} exists in several namespaces ({', '.join(where)}): "
                "give a namespace or use the run id"
            )
        else:
            message = (
                f"run name {ref!r} was used by several runs, since deleted, in namespace "
                f"{where[0] if where else '?'} (ids {', '.join(ids)}): use the run id"
            )
        super().__init__(message)
        self.ref = ref
        self.namespaces = tuple(where)
        self.ids = tuple(ids)


class DuplicateRunName(StoreError):
    """Another run (another id) already uses this run name in the namespace."""

    def __init__(self, namespace: str, run_name: str, existing_id: str) -> None:
        super().__init__(f"run name {run_name!r} is already used in namespace {namespace!r} by run {existing_id}")
        self.namespace = namespace
        self.run_name = run_name
        self.existing_id = existing_id


class OutputConflict(StoreError):
    """Rewriting output paths would give two rows of one run the same URL."""
