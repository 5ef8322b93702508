"""Sharded lifecycle jobs without a cluster: the key-range split, the counters summed
over the shards, the Indexed Job manifest, and the shard arguments as the node agent
(like the kubelet) expands them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localcluster.nodeagent.expansion import expand
from tracker.domain import shards
from tracker.domain.shards import KeyRange, Shard
from tracker.kube import manifests
from tracker.settings import LifecycleSettings, Settings, WorkerJobSettings

JOB_ID = "7f3e1c2a-0000-4000-8000-000000000001"
LIFECYCLE_JOB = {
    "metadata": {"name": "delete-big", "namespace": "lab", "uid": JOB_ID},
    "spec": {"run": "big", "operation": "delete_outputs", "requestedBy": "alice"},
}
KEYS = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)


def split(keys: list[str], count: int) -> list[KeyRange]:
    """What admission does: the keys at the boundary offsets, in key order, cut into ranges."""
    ordered = sorted(keys)
    return shards.ranges_from_boundaries([ordered[o] for o in shards.boundary_offsets(len(ordered), count)])


@given(st.sets(KEYS, min_size=1, max_size=300), st.integers(1, 70), st.lists(KEYS, max_size=30))
def test_ranges_are_disjoint_cover_every_key_and_hold_balanced_counts(
    keys: set[str], wanted: int, probes: list[str]
) -> None:
    count = min(wanted, len(keys))
    ranges = split(list(keys), count)
    assert len(ranges) == count
    assert ranges[0].after is None
    assert ranges[-1].upto is None
    for key in [*keys, *probes]:  # any key, indexed or not, is in exactly one range
        assert sum(r.holds(key) for r in ranges) == 1, key
    sizes = [sum(r.holds(k) for k in keys) for r in ranges]
    assert sum(sizes) == len(keys)
    assert max(sizes) - min(sizes) <= 1, sizes


def test_a_range_is_what_a_listing_starts_after_and_stops_past() -> None:
    middle = KeyRange(after="b", upto="d")
    assert [k for k in ["a", "b", "c", "d", "d0", "e"] if middle.holds(k)] == ["c", "d"]
    assert middle.beyond("d0")
    assert not middle.beyond("d")
    assert middle.absolute("runs/r-1/") == KeyRange("runs/r-1/b", "runs/r-1/d")
    assert shards.EVERYTHING.absolute("p/") == shards.EVERYTHING
    assert KeyRange.from_json(middle.to_json()) == middle
    assert KeyRange.from_json(KeyRange(upto="x").to_json()) == KeyRange(None, "x")


def test_boundaries_must_be_sorted_and_a_split_needs_a_key_per_shard() -> None:
    with pytest.raises(ValueError, match="sorted and distinct"):
        shards.ranges_from_boundaries(["b", "a"])
    with pytest.raises(ValueError, match="cannot split 2 keys into 3 shards"):
        shards.boundary_offsets(2, 3)
    assert shards.boundary_offsets(10, 3) == [2, 5]  # shards of 3, 3 and 4 keys


@pytest.mark.parametrize(
    ("indexed", "minimum", "wanted", "expected"),
    [(999, 1000, 4, 0), (1000, 1000, 4, 4), (5, 1, 8, 5), (10**7, 0, 4, 0)],
    ids=["below", "at-threshold", "one-per-object", "off"],
)
def test_a_job_is_sharded_from_the_threshold_on(indexed: int, minimum: int, wanted: int, expected: int) -> None:
    assert shards.shard_count(indexed, min_objects=minimum, shards=wanted) == expected


def test_each_shard_has_its_own_stable_journal() -> None:
    ids = [shards.journal_id(JOB_ID, i) for i in range(8)]
    assert len(set(ids) | {JOB_ID}) == 9
    assert ids == [shards.journal_id(JOB_ID, i) for i in range(8)]
    assert all(len(i) == 36 for i in ids)  # fits the journal's id column


def test_the_jobs_counters_are_the_sums_of_every_shards() -> None:
    entries: dict[str, Any] = shards.initial_entries(split(["a", "b", "c"], 3))
    entries = shards.with_shard(entries, 0, {"objectsDeleted": 5, "bytesDeleted": 50})
    entries = shards.with_shard(entries, 2, {"objectsDeleted": 7, "bytesDeleted": 70, "phase": "Running"})
    entries = shards.with_shard(entries, 0, {"objectsDeleted": 6, "bytesDeleted": 60})  # a later report
    assert entries["2"] == {"phase": "Running", "after": "b", "objectsDeleted": 7, "bytesDeleted": 70}
    summed = shards.totals(entries)
    assert (summed["objectsDeleted"], summed["bytesDeleted"], summed["objectsCopied"]) == (13, 130, 0)
    assert set(summed) == set(shards.COUNTER_KEYS)


def test_a_sharded_job_fails_with_its_failed_shards_reason_or_for_shards_that_never_said() -> None:
    done: dict[str, Any] = {str(i): {"phase": "Succeeded", "objectsDeleted": 5} for i in range(3)}
    assert shards.failure(done, 3) is None
    assert shards.failure(done, 4) == (
        "ShardNotReported",
        "the worker Job completed but shards 3 of 4 reported no outcome",
    )
    failed = shards.with_shard(done, 2, {"phase": "Failed", "reason": "AccessDenied", "message": "S3 denied it"})
    failed = shards.with_shard(failed, 10, {"phase": "Failed", "reason": "DeleteFailed", "message": "later"})
    assert shards.failure(failed, 11) == ("AccessDenied", "shard 2 of 11 failed: S3 denied it")


def test_a_shard_is_one_of_the_ranges_it_is_given() -> None:
    ranges = [r.to_json() for r in split(["a", "b", "c", "d"], 2)]
    assert Shard.of(1, ranges) == Shard(1, 2, KeyRange(after="b"))
    with pytest.raises(ValueError, match="shard index 2 is not one of the 2 shards"):
        Shard.of(2, ranges)


def test_a_sharded_job_is_an_indexed_job_of_one_pod_per_range() -> None:
    ranges = [KeyRange(upto="a$(HOME)b"), KeyRange("a$(HOME)b", "ü/$$x"), KeyRange(after="ü/$$x")]
    settings = Settings(worker=WorkerJobSettings(backoff_limit=2))
    job = manifests.worker_job(
        lifecycle_job=LIFECYCLE_JOB, namespace="tracker-system", run_id="r-1", settings=settings, shards=ranges
    )
    spec = job["spec"]
    assert {k: spec[k] for k in ("completionMode", "completions", "parallelism")} == {
        "completionMode": "Indexed",
        "completions": 3,
        "parallelism": 3,
    }
    assert (spec["backoffLimitPerIndex"], spec["maxFailedIndexes"]) == (2, 0)
    assert "backoffLimit" not in spec
    args = spec["template"]["spec"]["containers"][0]["args"]
    # The kubelet expands $(VAR) in arguments: the pod gets its index and the ranges as written.
    env = {"JOB_COMPLETION_INDEX": "1", "HOME": "/home/worker"}
    expanded = [expand(a, env) for a in args]
    assert expanded[expanded.index("--shard-index") + 1] == "1"
    assert json.loads(expanded[expanded.index("--shard-ranges") + 1]) == [r.to_json() for r in ranges]


def test_an_unsharded_job_is_built_as_before() -> None:
    job = manifests.worker_job(
        lifecycle_job=LIFECYCLE_JOB, namespace="tracker-system", run_id="r-1", settings=Settings()
    )
    assert job["spec"]["backoffLimit"] == 3
    assert "completionMode" not in job["spec"]
    assert "--shard-index" not in job["spec"]["template"]["spec"]["containers"][0]["args"]


def test_sharding_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_LIFECYCLE__SHARD_MIN_OBJECTS", "50000")
    monkeypatch.setenv("TRACKER_LIFECYCLE__SHARDS", "8")
    assert Settings().lifecycle == LifecycleSettings(shard_min_objects=50_000, shards=8)
    assert Settings.model_fields["lifecycle"].default == LifecycleSettings(shard_min_objects=1_000_000, shards=4)
