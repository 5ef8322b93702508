"""Which run files the API reads (the run's own prefixes only) and the tail's byte range."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import runfiles
from tracker.domain.runfiles import Span, Unreadable, confine, parse_content_range, run_prefixes, tail_span, tail_text
from tracker.domain.s3url import S3Url

PREFIXES = run_prefixes("s3://lab-scratch/work", "s3://lab-results/rnaseq/out/")


def test_run_prefixes_end_in_a_slash_and_skip_what_is_not_s3() -> None:
    assert (S3Url("lab-scratch", "work/"), S3Url("lab-results", "rnaseq/out/")) == PREFIXES
    assert run_prefixes(None, "file:///home/alice/work", "s3://bucket-only/", "") == ()


def test_an_object_under_the_work_dir_is_read() -> None:
    assert confine("s3://lab-scratch/work/ab/cdef/.command.out", PREFIXES) == S3Url(
        "lab-scratch", "work/ab/cdef/.command.out"
    )
    assert confine("s3://lab-results/rnaseq/out/tracker.yml", PREFIXES).key == "rnaseq/out/tracker.yml"


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("s3://lab-scratch/work/../secrets/key", "'..'"),
        ("s3://lab-scratch/work/./x", "'..'"),
        ("s3://lab-scratch/work//x", "empty"),
        ("s3://lab-scratch/workshop/x", "outside"),
        ("s3://lab-scratch/other/x", "outside"),
        ("s3://other-bucket/work/x", "outside"),
        ("s3://lab-scratch/work/dir/", "prefix"),
        ("file:///home/alice/work/.nextflow.log", "local path"),
        ("/home/alice/.nextflow.log", "local path"),
        ("nextflow.log", "local path"),
        ("s3://A/x", "bucket"),
    ],
)
def test_anything_else_is_refused_with_a_reason(location: str, why: str) -> None:
    with pytest.raises(Unreadable, match=why):
        confine(location, PREFIXES)


@given(st.text(alphabet="ab./", min_size=1, max_size=12))
def test_no_key_outside_the_prefixes_or_with_dot_segments_is_ever_read(rest: str) -> None:
    location = "s3://lab-scratch/" + rest
    try:
        url = confine(location, PREFIXES)
    except Unreadable:
        return
    relative = url.key.removeprefix("work/")
    assert url.key.startswith("work/")
    assert all(segment not in ("", ".", "..") for segment in relative.split("/"))


def test_the_runner_log_is_the_reported_file_else_the_configured_path_under_the_work_dir() -> None:
    common = {"work_dir": "s3://lab-scratch/work/", "run_name": "sad_einstein", "session_id": "s-1", "run_id": "r"}
    reported = "s3://lab-scratch/work/logs/nf.log"
    assert runfiles.runner_log_location(reported=reported, path=".nextflow.log", **common) == reported
    assert (
        runfiles.runner_log_location(reported=None, path=".nextflow.log", **common)
        == "s3://lab-scratch/work/.nextflow.log"
    )
    assert (
        runfiles.runner_log_location(reported=None, path="logs/{run_name}-{session_id}.log", **common)
        == "s3://lab-scratch/work/logs/sad_einstein-s-1.log"
    )
    with pytest.raises(Unreadable, match="no work directory"):
        runfiles.runner_log_location(reported=None, path=".nextflow.log", **(common | {"work_dir": None}))


def test_task_streams_are_nextflows_command_files() -> None:
    assert runfiles.task_log_location("s3://b/work/ab/cd", "stdout") == "s3://b/work/ab/cd/.command.out"
    assert runfiles.task_log_location("s3://b/work/ab/cd/", "stderr") == "s3://b/work/ab/cd/.command.err"
    assert runfiles.task_log_location("s3://b/work/ab/cd", "log") == "s3://b/work/ab/cd/.command.log"
    with pytest.raises(Unreadable):
        runfiles.task_log_location("s3://b/w/", "env")
    with pytest.raises(Unreadable):
        runfiles.task_log_location(None, "stdout")


@given(size=st.integers(0, 10**12), wanted=st.integers(1, 10**9))
def test_a_tail_is_the_last_bytes_and_never_more_than_asked(size: int, wanted: int) -> None:
    span = tail_span(size, wanted)
    assert span.end == size - 1
    assert span.length == min(size, wanted)
    assert span.truncated == (size > wanted)


def test_tail_header_and_content_range() -> None:
    assert runfiles.tail_header(1048576) == "bytes=-1048576"
    with pytest.raises(ValueError, match="at least one byte"):
        runfiles.tail_header(0)
    assert parse_content_range("bytes 1000-1999/2000", 1000) == Span(1000, 1999, 2000)
    assert parse_content_range(None, 12) == Span(0, 11, 12)
    with pytest.raises(ValueError, match="unexpected Content-Range"):
        parse_content_range("items 1-2/3", 2)


def test_a_tail_from_mid_file_drops_its_partial_first_line() -> None:
    assert tail_text(b"ial line\nnext\nlast\n", Span(10, 28, 29)) == "next\nlast\n"
    assert tail_text(b"whole\nfile\n", Span(0, 10, 11)) == "whole\nfile\n"
    assert tail_text(b"one long line", Span(5, 17, 18)) == "one long line"
    assert tail_text(b"caf\xc3", Span(0, 3, 4)) == "caf\ufffd"
