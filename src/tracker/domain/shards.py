"""Sharded lifecycle jobs: splitting a run's key space into ranges, and adding up the
shards' counters.

A delete or move of a run with many indexed outputs runs as a Kubernetes Indexed Job
of N pods, each working on one `KeyRange` of the run's prefix. The ranges are cut at
equal-count boundaries of the run's indexed output keys (`boundary_offsets`, then
`ranges_from_boundaries`): shard 0 holds every key up to the first boundary, shard i
the keys after boundary i-1 up to boundary i, and the last shard every key after the
last boundary, so an object the index does not know still falls in exactly one range
(S3 is the truth for a delete). Keys are relative to the prefix and ordered by code
point, which is S3's (UTF-8 byte) listing order.

Each shard reports its own counters (`status.shards["<i>"]`); the job's counters are
their sums (`totals`), written in the same status update, so they never disagree.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from tracker.domain.records import JobCounters, JobPhase, camel

COUNTER_KEYS = tuple(camel(f.name) for f in fields(JobCounters))


@dataclass(frozen=True)
class KeyRange:
    """Keys `k` (relative to a prefix) with `after < k <= upto`; None is open-ended."""

    after: str | None = None
    upto: str | None = None

    def holds(self, key: str) -> bool:
        return (self.after is None or key > self.after) and (self.upto is None or key <= self.upto)

    def beyond(self, key: str) -> bool:
        """Whether `key` and every key listed after it lie past the range's end."""
        return self.upto is not None and key > self.upto

    def absolute(self, prefix_key: str) -> KeyRange:
        """The same range in full keys under `prefix_key` (what ListObjectsV2 takes)."""
        return KeyRange(
            None if self.after is None else prefix_key + self.after,
            None if self.upto is None else prefix_key + self.upto,
        )

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in (("after", self.after), ("upto", self.upto)) if v is not None}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> KeyRange:
        return cls(value.get("after"), value.get("upto"))


EVERYTHING = KeyRange()


@dataclass(frozen=True)
class Shard:
    """One pod's part of a sharded job: its index, how many there are, its keys."""

    index: int
    count: int
    key_range: KeyRange

    @classmethod
    def of(cls, index: int, ranges: Sequence[Mapping[str, Any]]) -> Shard:
        """Shard `index` of the ranges the worker's `--shard-ranges` names."""
        if not 0 <= index < len(ranges):
            raise ValueError(f"shard index {index} is not one of the {len(ranges)} shards")
        return cls(index, len(ranges), KeyRange.from_json(ranges[index]))


def shard_count(indexed_objects: int, *, min_objects: int, shards: int) -> int:
    """How many shards a job over `indexed_objects` runs as: 0 (one ordinary pod) below
    `min_objects` or when sharding is off (`min_objects` 0), else `shards`, at most one
    per object."""
    if min_objects <= 0 or indexed_objects < min_objects:
        return 0
    return max(1, min(shards, indexed_objects))


def boundary_offsets(count: int, shards: int) -> list[int]:
    """Positions (0-based, in key order) of the last key of each shard but the last:
    shard i holds the keys at positions [i*count//shards, (i+1)*count//shards)."""
    if shards < 1 or count < shards:
        raise ValueError(f"cannot split {count} keys into {shards} shards")
    return [(i * count) // shards - 1 for i in range(1, shards)]


def ranges_from_boundaries(boundaries: Sequence[str]) -> list[KeyRange]:
    """The len(boundaries) + 1 ranges cut at `boundaries` (sorted, distinct); together
    they cover every key exactly once."""
    if any(a >= b for a, b in itertools.pairwise(boundaries)):
        raise ValueError("boundaries must be sorted and distinct")
    edges: list[str | None] = [None, *boundaries, None]
    return [KeyRange(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


def journal_id(job_id: str, shard: int) -> str:
    """The delete journal of one shard of a job: a UUID of its own, derived from both, so
    a retried pod of that shard resumes its journal and no other."""
    return str(uuid.uuid5(uuid.UUID(job_id), f"shard-{shard}"))


def shard_key(index: int) -> str:
    return str(index)


def totals(shards: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """The job's counters: each counter summed over the shards' entries."""
    return {key: sum(int(entry.get(key) or 0) for entry in shards.values()) for key in COUNTER_KEYS}


def with_shard(
    shards: Mapping[str, Mapping[str, Any]], index: int, entry: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The shards' entries with shard `index`'s entry updated by `entry`."""
    merged = {key: dict(value) for key, value in shards.items()}
    merged[shard_key(index)] = {**merged.get(shard_key(index), {}), **entry}
    return merged


def failure(shards: Mapping[str, Mapping[str, Any]], count: int) -> tuple[str, str] | None:
    """Why a sharded job whose pods have all exited failed (reason, message): the first
    shard that failed for good, or shards that never reported an outcome; None: every
    shard succeeded."""
    for key in sorted(shards, key=int):
        entry = shards[key]
        if entry.get("phase") == JobPhase.FAILED:
            return entry.get("reason") or "ShardFailed", (
                f"shard {key} of {count} failed: {entry.get('message') or 'no message'}"
            )
    silent = [str(i) for i in range(count) if (shards.get(str(i)) or {}).get("phase") != JobPhase.SUCCEEDED]
    if silent:
        return (
            "ShardNotReported",
            f"the worker Job completed but shards {', '.join(silent)} of {count} reported no outcome",
        )
    return None


def initial_entries(ranges: Iterable[KeyRange]) -> dict[str, dict[str, Any]]:
    """The shards' entries at admission: each shard's range, Pending."""
    return {shard_key(i): {"phase": "Pending", **r.to_json()} for i, r in enumerate(ranges)}
