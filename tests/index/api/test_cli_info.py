"""`tracker outputs info` through the real read API on a seeded index (both engines):
the URL matches as a case-insensitive substring, a bucket typed in capitals included."""

from __future__ import annotations

import pytest
from api_seed import FOO_ID
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from tracker.api.client import ApiClient
from tracker.cli.context import CliContext
from tracker.cli.main import cli


@pytest.fixture(autouse=True)
def read_api(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    api = ApiClient("http://testserver/", http=client)
    monkeypatch.setattr(CliContext, "api_client", property(lambda self: api))


def info(url: str) -> Result:
    return CliRunner().invoke(
        cli, ["outputs", "info", url], env={"TRACKER_API_URL": "", "TRACKER_TOKEN": ""}, catch_exceptions=False
    )


@pytest.mark.parametrize(
    "url",
    [
        "s3://bucket/runs/foo/sample.bam",
        "s3://BUCKET/runs/foo/sample.bam",  # the bucket typed in capitals
        "S3://Bucket/RUNS/FOO/SAMPLE.BAM",  # scheme, bucket and key in any case
        "S3://BUCKET/RUNS/FOO/QC/",  # a prefix
        "s3://bucket/runs/foo/later/not-indexed.txt",  # inside its outputDir
        "S3://BUCKET/RUNS/FOO/LATER/NOT-INDEXED.TXT",
    ],
)
def test_info_matches_in_any_case(url: str) -> None:
    result = info(url)
    assert (result.exit_code, result.stderr, result.stdout) == (0, "", f"foo-run-001  id={FOO_ID}\n")


@pytest.mark.parametrize("url", ["S3://Bad_Bucket/x", "S3:/bucket/x", "s3://B/x"])
def test_a_malformed_url_in_capitals_is_still_refused(url: str) -> None:
    result = info(url)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1


def test_no_match_in_capitals_exits_1() -> None:
    result = info("S3://ELSEWHERE/RUNS/FOO/")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "tracker: no run has outputs matching 'S3://ELSEWHERE/RUNS/FOO/'\n"
