"""S3 URL and prefix parsing, by example and by property (the fence: test_fence.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.s3url import (
    InvalidS3Url,
    S3Url,
    parse_prefix,
    parse_url,
)

buckets = st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}[a-z0-9]", fullmatch=True)
# Key characters that matter: separators, dots, spaces, percent signs, unicode.
key_chars = st.sampled_from([*list("ab1-_ %.+/é漢"), "/", "..", "//"])
keys = st.lists(key_chars, max_size=12).map("".join)
segments = st.text(
    alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1, max_size=8
).filter(lambda s: s not in (".", ".."))
prefix_keys = st.lists(segments, min_size=1, max_size=4).map(lambda parts: "/".join(parts) + "/")


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


@given(buckets, keys)
def test_parse_round_trips(bucket: str, key: str) -> None:
    assert parse_url(str(S3Url(bucket, key))) == S3Url(bucket, key)


@given(prefix_keys)
def test_valid_prefixes_parse(prefix_key: str) -> None:
    text = f"s3://bucket/{prefix_key}"
    assert str(parse_prefix(text)) == text
