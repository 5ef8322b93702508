"""The pure machinery under delete and copy: bounded pipelining, batching, retries, merging."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain.fence import Fence, rebase
from tracker.domain.s3url import S3Url
from tracker.s3.batches import Target, delete_batch
from tracker.s3.multipart import MAX_PARTS, MIN_PART_SIZE, part_ranges
from tracker.s3.pipeline import chunks, hold_back_last, pair_by_key, run_bounded
from tracker.s3.retry import backoff_delay
from tracker.s3.verification import is_verified_copy

# Key characters that matter in S3: separators, dots, spaces, percent signs, unicode.
rich_keys = st.lists(
    st.sampled_from(
        ["a", "Z", "1", "-", "_", " ", "%", "%41", ".", "..", "/", "//", "é", "漢", "\U0001f600", "+", "~", "\t"]
    ),
    min_size=1,
    max_size=10,
).map("".join)


# -- run_bounded ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(count=st.integers(0, 60), in_flight=st.integers(1, 6))
def test_run_bounded_holds_at_most_in_flight_plus_one_items(count: int, in_flight: int) -> None:
    pulled, finished, ahead, caller = [0], [0], [0], threading.get_ident()
    threads: set[int] = set()

    def items() -> Iterator[int]:
        for i in range(count):
            pulled[0] += 1
            ahead[0] = max(ahead[0], pulled[0] - finished[0])
            yield i

    def on_result(result: int) -> None:
        threads.add(threading.get_ident())
        finished[0] += 1
        results.append(result)

    results: list[int] = []
    run_bounded(items(), lambda i: i * i, in_flight=in_flight, on_result=on_result)

    assert sorted(results) == [i * i for i in range(count)]
    assert ahead[0] <= in_flight + 1
    assert threads <= {caller}


def test_run_bounded_finishes_started_work_then_raises_the_first_error() -> None:
    started: list[int] = []
    results: list[int] = []
    release = threading.Event()
    lock = threading.Lock()

    def work(i: int) -> int:
        with lock:
            started.append(i)
        if i == 3:
            release.set()
            raise RuntimeError("item 3 failed")
        release.wait(timeout=10)  # items 0-2 finish only once item 3 has failed
        return i

    with pytest.raises(RuntimeError, match="item 3 failed"):
        run_bounded(iter(range(100)), work, in_flight=4, on_result=results.append)

    assert sorted(results) == sorted(i for i in started if i != 3)  # every started item was reported
    assert len(started) <= 4 + 1  # pulling stopped at the failure


def test_run_bounded_reports_finished_work_when_the_items_fail() -> None:
    results: list[int] = []

    def items() -> Iterator[int]:
        yield from range(5)
        raise PermissionError("listing denied")

    with pytest.raises(PermissionError):
        run_bounded(items(), lambda i: i, in_flight=3, on_result=results.append)
    assert sorted(results) == [0, 1, 2, 3, 4]


# -- batching ------------------------------------------------------------------------------

pages_strategy = st.lists(st.lists(st.integers(), max_size=8), max_size=8)


@given(pages=pages_strategy)
def test_hold_back_last_keeps_every_item_in_order_and_within_page_size(pages: list[list[int]]) -> None:
    batches = list(hold_back_last(pages))
    assert [i for b in batches for i in b] == [i for p in pages for i in p]
    assert all(0 < len(b) <= max(len(p) for p in pages) for b in batches)


@given(pages=pages_strategy)
def test_a_pages_last_item_is_released_only_after_the_next_page_is_listed(pages: list[list[int]]) -> None:
    tagged = [[(n, i, j == len(page) - 1) for j, i in enumerate(page)] for n, page in enumerate(pages)]
    listed = [-1]

    def listing() -> Iterator[list[tuple[int, int, bool]]]:
        for n, page in enumerate(tagged):
            listed[0] = n
            yield page
        listed[0] = len(tagged)

    for batch in hold_back_last(listing()):
        for page_number, _, last in batch:
            if last:
                assert listed[0] > page_number


@given(items=st.lists(st.integers(), max_size=50), size=st.integers(1, 7))
def test_chunks(items: list[int], size: int) -> None:
    batches = list(chunks(items, size))
    assert [i for b in batches for i in b] == items
    assert all(len(b) == size for b in batches[:-1])
    assert all(0 < len(b) <= size for b in batches)


@given(attempt=st.integers(0, 100), base=st.floats(0.001, 2), cap=st.floats(0.01, 60))
def test_backoff_is_exponential_with_jitter_and_capped(attempt: int, base: float, cap: float) -> None:
    ceiling = min(cap, base * 2 ** min(attempt, 32))
    assert ceiling / 2 <= backoff_delay(attempt, base=base, cap=cap) <= ceiling


# -- delete_batch against a scripted DeleteObjects ------------------------------------------


class FakeS3:
    """DeleteObjects over a set of keys; key `k` fails `failures[k]` times with `codes[k]`."""

    def __init__(
        self,
        keys: set[str],
        failures: dict[str, int],
        codes: dict[str, str] | None = None,
        throttles: int = 0,
        silent: set[str] | None = None,
    ) -> None:
        self.store, self.failures, self.codes = set(keys), dict(failures), codes or {}
        self.throttles, self.silent, self.requests = throttles, silent or set(), 0

    def delete_objects(self, *, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        if self.throttles:
            self.throttles -= 1
            raise ClientError(
                {"Error": {"Code": "SlowDown", "Message": "slow down"}, "ResponseMetadata": {"HTTPStatusCode": 503}},
                "DeleteObjects",
            )
        deleted, errors = [], []
        for obj in Delete["Objects"]:
            key = obj["Key"]
            if key in self.silent:
                self.silent.discard(key)
            elif self.failures.get(key, 0) > 0:
                self.failures[key] -= 1
                errors.append({"Key": key, "Code": self.codes.get(key, "InternalError"), "Message": "try again"})
            else:
                self.store.discard(key)
                deleted.append({"Key": key})
        return {"Deleted": deleted, "Errors": errors}


@settings(max_examples=60, deadline=None)
@given(
    failures=st.dictionaries(rich_keys, st.integers(0, 4), min_size=1, max_size=30),
    retries=st.integers(0, 3),
    throttles=st.integers(0, 2),
)
def test_only_keys_s3_deleted_are_reported_deleted(failures: dict[str, int], retries: int, throttles: int) -> None:
    s3 = FakeS3(set(failures), failures, throttles=throttles)
    targets = [Target(key, size=len(key)) for key in failures]

    outcome = delete_batch(s3, "b", targets, max_key_retries=retries, backoff_base=0)

    deleted = {t.key for t in outcome.deleted}
    failed = {f.key for f in outcome.failed}
    assert deleted.isdisjoint(s3.store)  # nothing reported deleted still exists
    assert len(outcome.deleted) == len(deleted)  # nor twice
    if throttles > retries:  # the request itself never got through
        assert outcome.error is not None
        assert not deleted
        assert s3.store == set(failures)
        return
    assert outcome.error is None
    assert failed == s3.store == {k for k, n in failures.items() if n > retries}
    assert deleted | failed == set(failures)
    assert all(f.code == "InternalError" for f in outcome.failed)


def test_access_denied_and_precondition_failed_are_not_retried() -> None:
    s3 = FakeS3({"a", "b", "c"}, {"a": 9, "b": 9}, codes={"a": "AccessDenied", "b": "PreconditionFailed"})
    outcome = delete_batch(s3, "bkt", [Target("a"), Target("b"), Target("c")], max_key_retries=5, backoff_base=0)
    assert [f.key for f in outcome.denied] == ["a"]
    assert [f.key for f in outcome.changed] == ["b"]
    assert [t.key for t in outcome.deleted] == ["c"]
    assert s3.requests == 1


def test_a_key_s3_did_not_answer_for_is_sent_again() -> None:
    s3 = FakeS3({"a", "b"}, {}, silent={"a"})
    outcome = delete_batch(s3, "bkt", [Target("a"), Target("b")], max_key_retries=2, backoff_base=0)
    assert sorted(t.key for t in outcome.deleted) == ["a", "b"]
    assert s3.requests == 2
    assert not s3.store


# -- copy helpers --------------------------------------------------------------------------


@given(size=st.integers(1, 5 * 2**40), part_size=st.integers(MIN_PART_SIZE, 5 * 2**30))
def test_part_ranges_cover_the_object_within_s3_limits(size: int, part_size: int) -> None:
    ranges = part_ranges(size, part_size)
    assert ranges[0][0] == 0
    assert ranges[-1][1] == size - 1
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(ranges))
    assert len(ranges) <= MAX_PARTS
    assert all(last - first + 1 >= MIN_PART_SIZE for first, last in ranges[:-1])


def test_a_copy_verifies_by_etag_or_marker_and_always_by_size() -> None:
    assert is_verified_copy("abc", 10, etag="abc", size=10)
    assert is_verified_copy("abc", 10, etag="def-2", size=10, metadata={"tracker-source-etag": "abc"})
    assert not is_verified_copy("abc", 10, etag="abc", size=11)
    assert not is_verified_copy("abc", 10, etag="def", size=10, metadata={"tracker-source-etag": "old"})
    assert not is_verified_copy("", 10, etag="", size=10, metadata={"tracker-source-etag": ""})


@given(sources=st.sets(rich_keys, max_size=30), destinations=st.sets(rich_keys, max_size=30))
def test_pair_by_key_matches_like_a_dictionary(sources: set[str], destinations: set[str]) -> None:
    # S3 lists in UTF-8 byte order; Python's string order is the same, which the merge relies on.
    ordered = sorted(sources | destinations)
    assert ordered == sorted(ordered, key=lambda k: k.encode())
    pairs = list(pair_by_key(((k, k.upper()) for k in sorted(sources)), ((k, len(k)) for k in sorted(destinations))))
    assert pairs == [(k, k.upper(), len(k) if k in destinations else None) for k in sorted(sources)]


def test_pair_by_key_refuses_unordered_listings() -> None:
    with pytest.raises(ValueError, match="out of order"):
        list(pair_by_key([("b", 1), ("a", 2)], []))


@given(relative=rich_keys)
def test_rebased_keys_keep_their_characters_and_stay_in_the_destination(relative: str) -> None:
    source, destination = S3Url("bkt", "run-1/"), S3Url("other", "moved/run-1/")
    moved = rebase(source.child(relative), Fence(source), Fence(destination))
    assert moved.key == "moved/run-1/" + relative
    assert Fence(destination).holds(moved)
    assert not Fence(source).holds(moved)
