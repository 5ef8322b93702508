"""The prefix fence (tracker.domain.fence), by example and by property: rich keys
(run-1/ vs run-10/, case, unicode, `%`, `..`, `//`, trailing slashes)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tracker.domain import fence
from tracker.domain.fence import Fence, guard, guard_copy, rebase, refuse_shared, successor
from tracker.domain.s3url import InvalidS3Url, S3Url, parse_prefix, parse_url

buckets = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True)
key_chars = st.sampled_from([*"aAbB1-_ %.+é漢É", "/", "..", "//", "\U0001f600", "\x7f", "ſ", "K"])
keys = st.lists(key_chars, max_size=12).map("".join)
segments = st.text(
    alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1, max_size=8
)
prefix_keys = st.lists(segments, min_size=1, max_size=4).map(lambda parts: "/".join(parts) + "/")


def test_run_1_never_covers_run_10() -> None:
    run_1 = Fence(parse_prefix("s3://bkt/run-1/"))
    assert run_1.holds(parse_url("s3://bkt/run-1/sample.bam"))
    assert run_1.holds(parse_url("s3://bkt/run-1/"))  # the "folder" object
    assert not run_1.holds(parse_url("s3://bkt/run-10/sample.bam"))
    assert not run_1.holds(parse_url("s3://bkt/run-1"))
    assert not run_1.holds(parse_url("s3://bkt/RUN-1/sample.bam"))  # keys are case-sensitive
    assert not run_1.holds(parse_url("s3://bkt2/run-1/sample.bam"))
    assert not run_1.overlaps(parse_prefix("s3://bkt/run-10/"))
    with pytest.raises(fence.FenceViolation, match=r"run-10/sample\.bam"):
        run_1.check(parse_url("s3://bkt/run-10/sample.bam"), "delete")


def test_a_fence_is_a_prefix_and_a_guarded_one_is_not_a_bucket_root() -> None:
    with pytest.raises(fence.NotAPrefix):
        Fence(S3Url("bkt", "run-1"))
    with pytest.raises(fence.NotAPrefix, match="refusing to delete"):
        guard(S3Url("bkt", "run-1"), "delete")
    with pytest.raises(fence.BucketRoot, match="refusing to move the whole bucket"):
        guard(S3Url("bkt", ""), "move")
    assert Fence(S3Url("bkt", "")).holds(S3Url("bkt", "anything"))  # a root holds everything
    assert guard(S3Url("bkt", "a/"), "delete") == Fence(S3Url("bkt", "a/"))


def test_every_refusal_is_an_invalid_url_with_a_job_reason() -> None:
    errors = {
        fence.BucketRoot: "BucketRoot",
        fence.OverlappingPrefixes: "OverlappingDestination",
        fence.FenceViolation: "FenceViolation",
        fence.NotAPrefix: "InvalidPrefix",
    }
    for error, reason in errors.items():
        assert issubclass(error, InvalidS3Url)
        assert error.reason == reason
    with pytest.raises(fence.SharedPrefix) as shared:
        refuse_shared(S3Url("b", "p/"), ["run-b", "run-a", "run-a"], "delete")
    assert shared.value.reason == "SharedPrefix"
    assert shared.value.runs == ("run-a", "run-b")
    assert str(shared.value) == (
        "outputDir s3://b/p/ also holds the outputs of other runs ('run-a', 'run-b'): refusing to delete them"
    )
    refuse_shared(S3Url("b", "p/"), [], "delete")  # nobody else: fine


def test_shared_prefix_names_at_most_five_runs() -> None:
    with pytest.raises(fence.SharedPrefix, match=r"'r4' and 2 more\): refusing to move them"):
        refuse_shared(S3Url("b", "p/"), [f"r{i}" for i in range(7)], "move")


@given(buckets, prefix_keys, keys, keys)
def test_holds_is_exactly_same_bucket_and_string_prefix_on_keys(bucket: str, prefix_key: str, a: str, b: str) -> None:
    prefix = Fence(S3Url(bucket, prefix_key))
    assert prefix.holds(prefix.prefix.child(a))
    assert prefix.holds(S3Url(bucket, b)) == b.startswith(prefix_key)
    if b.startswith(prefix_key):
        assert prefix.check_key(b) == b
    else:
        with pytest.raises(fence.FenceViolation):
            prefix.check_key(b)
    assert not prefix.holds(S3Url(bucket + "x", prefix_key + a))


@given(buckets, prefix_keys, st.text(alphabet="0123456789", min_size=1, max_size=3), keys)
def test_sibling_with_a_longer_last_segment_is_outside(bucket: str, prefix_key: str, digits: str, rest: str) -> None:
    # run-1/ vs run-10/: characters appended to the last segment, before its slash.
    sibling = S3Url(bucket, prefix_key[:-1] + digits + "/" + rest)
    assert not Fence(S3Url(bucket, prefix_key)).holds(sibling)
    with pytest.raises(fence.FenceViolation):
        Fence(S3Url(bucket, prefix_key)).check(sibling)


@given(buckets, prefix_keys, keys)
def test_case_folding_never_lets_a_key_in(bucket: str, prefix_key: str, rest: str) -> None:
    for variant in {prefix_key.upper(), prefix_key.lower(), prefix_key.swapcase(), prefix_key.casefold()}:
        url = S3Url(bucket, variant + rest)
        assert Fence(S3Url(bucket, prefix_key)).holds(url) == (variant + rest).startswith(prefix_key)


@given(buckets, prefix_keys, keys)
def test_no_trailing_slash_is_never_inside(bucket: str, prefix_key: str, rest: str) -> None:
    assume("/" not in rest)
    assert not Fence(S3Url(bucket, prefix_key)).holds(S3Url(bucket, prefix_key[:-1]))
    assert Fence(S3Url(bucket, prefix_key)).holds(S3Url(bucket, prefix_key + rest + "/"))


@given(buckets, prefix_keys, prefix_keys)
def test_overlap_is_symmetric_and_matches_containment(bucket: str, a: str, b: str) -> None:
    pa, pb = S3Url(bucket, a), S3Url(bucket, b)
    assert Fence(pa).overlaps(pb) == Fence(pb).overlaps(pa) == (a.startswith(b) or b.startswith(a))
    if Fence(pa).overlaps(pb):
        with pytest.raises(fence.OverlappingPrefixes):
            guard_copy(pa, pb)
    else:
        assert guard_copy(pa, pb) == (Fence(pa), Fence(pb))


@given(buckets, prefix_keys, prefix_keys, keys)
def test_rebase_moves_inside_the_destination_and_back(bucket: str, old: str, new: str, rel: str) -> None:
    source, destination = Fence(S3Url(bucket, old)), Fence(S3Url("dest-bucket", new))
    url = source.prefix.child(rel)
    moved = rebase(url, source, destination)
    assert destination.holds(moved)
    assert moved.key == new + rel
    assert rebase(moved, destination, source) == url


@given(buckets, prefix_keys, keys)
def test_rebase_refuses_what_the_source_does_not_hold(bucket: str, prefix_key: str, other: str) -> None:
    assume(not other.startswith(prefix_key))
    with pytest.raises(fence.FenceViolation):
        rebase(S3Url(bucket, other), Fence(S3Url(bucket, prefix_key)), Fence(S3Url("dest", "x/")))


@given(buckets, prefix_keys, keys, keys)
def test_text_bounds_bracket_exactly_the_urls_inside(bucket: str, prefix_key: str, inside: str, other: str) -> None:
    prefix = Fence(S3Url(bucket, prefix_key))
    low, high = prefix.text_bounds()
    for url in (prefix.prefix.child(inside), S3Url(bucket, other)):
        text = str(url)
        in_range = text >= low and (high is None or text < high)
        assert in_range == prefix.holds(url)


@given(st.text(min_size=1, max_size=6))
def test_successor_is_above_every_extension(text: str) -> None:
    upper = successor(text)
    assume(upper is not None)
    assert upper is not None
    assert text < upper
    assert text + "\U0010ffff" < upper
