"""The prefix fence and S3 URL handling, by example and by property."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tracker.domain.s3url import (
    InvalidS3Url,
    S3Url,
    contains,
    overlaps,
    parse_prefix,
    parse_url,
    rebase,
    rebase_text,
)

buckets = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True)
# Key characters that matter: separators, dots, spaces, percent signs, unicode.
key_chars = st.sampled_from([*list("ab1-_ %.+/é漢"), "/", "..", "//"])
keys = st.lists(key_chars, max_size=12).map("".join)
segments = st.text(
    alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1, max_size=8
).filter(lambda s: s not in (".", ".."))
prefix_keys = st.lists(segments, min_size=1, max_size=4).map(lambda parts: "/".join(parts) + "/")


def test_run_1_never_covers_run_10() -> None:
    run_1 = parse_prefix("s3://bkt/run-1/")
    assert contains(run_1, parse_url("s3://bkt/run-1/sample.bam"))
    assert not contains(run_1, parse_url("s3://bkt/run-10/sample.bam"))
    assert not contains(run_1, parse_url("s3://bkt/run-1"))
    assert not overlaps(run_1, parse_prefix("s3://bkt/run-10/"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://b/x/", "must start with s3://"),
        ("s3://B/x/", "invalid bucket name"),
        ("s3://ab/x/", "invalid bucket name"),
        ("s3://b/x", "ending in '/'"),
        ("s3://b/x//y/", "empty segment"),
        ("s3://b/x/../y/", "contains .."),
        ("s3://b/./", "contains ."),
    ],
)
def test_bad_prefixes_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidS3Url, match=message.replace(".", r"\.")):
        parse_prefix(text.replace("s3://b/", "s3://bucket/"))


def test_keys_are_literal() -> None:
    url = parse_url("s3://bucket/a b/%41/../é//x")
    assert url.key == "a b/%41/../é//x"
    assert str(url) == "s3://bucket/a b/%41/../é//x"


def test_bucket_root() -> None:
    assert parse_prefix("s3://bucket/").is_bucket_root
    assert parse_url("s3://bucket").is_bucket_root


def test_trailing_slash_folder_object_belongs_to_its_prefix() -> None:
    prefix = parse_prefix("s3://bucket/run-1/")
    assert contains(prefix, parse_url("s3://bucket/run-1/"))
    assert contains(prefix, parse_url("s3://bucket/run-1/dir/"))


@given(buckets, keys)
def test_parse_round_trips(bucket: str, key: str) -> None:
    assert parse_url(str(S3Url(bucket, key))) == S3Url(bucket, key)


@given(buckets, prefix_keys, keys, keys)
def test_fence_is_exactly_string_prefix_on_keys(bucket: str, prefix_key: str, a: str, b: str) -> None:
    prefix = S3Url(bucket, prefix_key)
    inside = prefix.child(a)
    assert contains(prefix, inside)
    outside = S3Url(bucket, b)
    assert contains(prefix, outside) == b.startswith(prefix_key)
    assert not contains(prefix, S3Url(bucket + "x", prefix_key + a))


@given(buckets, prefix_keys, st.text(alphabet="0123456789", min_size=1, max_size=3), keys)
def test_sibling_with_longer_name_is_outside(bucket: str, prefix_key: str, digits: str, rest: str) -> None:
    # run-1/ vs run-10/: append characters to the last segment, before its slash.
    sibling = S3Url(bucket, prefix_key[:-1] + digits + "/" + rest)
    assert not contains(S3Url(bucket, prefix_key), sibling)


@given(buckets, prefix_keys, prefix_keys, keys)
def test_rebase_moves_under_the_new_prefix_and_back(bucket: str, old: str, new: str, rel: str) -> None:
    assume(not (old.startswith(new) or new.startswith(old)))
    old_prefix, new_prefix = S3Url(bucket, old), S3Url("dest-bucket", new)
    url = old_prefix.child(rel)
    moved = rebase(url, old_prefix, new_prefix)
    assert contains(new_prefix, moved)
    assert rebase(moved, new_prefix, old_prefix) == url
    assert rebase_text(str(url), str(old_prefix), str(new_prefix)) == str(moved)


@given(buckets, prefix_keys)
def test_rebase_text_ignores_rows_outside_the_prefix(bucket: str, prefix_key: str) -> None:
    prefix = str(S3Url(bucket, prefix_key))
    assert rebase_text(f"s3://{bucket}/elsewhere-{prefix_key}x", prefix, "s3://new/p/") is None


@given(buckets, prefix_keys, prefix_keys)
def test_overlap_is_symmetric_and_matches_containment(bucket: str, a: str, b: str) -> None:
    pa, pb = S3Url(bucket, a), S3Url(bucket, b)
    assert overlaps(pa, pb) == overlaps(pb, pa) == (a.startswith(b) or b.startswith(a))


@given(prefix_keys)
def test_valid_prefixes_parse(prefix_key: str) -> None:
    text = f"s3://bucket/{prefix_key}"
    assert str(parse_prefix(text)) == text
