"""`/api/v1/outputs`: which runs published a URL (`tracker outputs info`) and the
multi-word search across every run (a query is required)."""

from __future__ import annotations

from typing import Any

import pytest
from api_seed import BAR_ID, FOO_ID, OLD_ID
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tracker.api.paths import OUTPUTS_LOOKUP, OUTPUTS_SEARCH, api_path
from tracker.domain.records import OutputObject
from tracker.store import outputs
from tracker.store.engine import session_factory


def lookup(client: TestClient, **params: Any) -> list[str]:
    response = client.get(api_path(OUTPUTS_LOOKUP), params=params)
    assert response.status_code == 200, response.text
    assert response.json()["url"] == params["url"]
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://bucket/runs/foo/sample.bam", [FOO_ID]),
        ("S3://BUCKET/RUNS/FOO/QC/", [FOO_ID]),  # a prefix, in any case
        ("a_r2.zip", [FOO_ID]),  # any part of a URL
        ("s3://bucket/runs/", [BAR_ID, FOO_ID, OLD_ID]),  # newest first; bar has no rows yet, its outputDir matches
        ("s3://bucket/runs/bar/later/file.txt", [BAR_ID]),  # inside an outputDir, before indexing
        ("old.bam", [OLD_ID]),  # deleted outputs still tell which run published them
        ("s3://elsewhere/", []),
        ("100%_", []),
        ("x\x00y", []),
    ],
)
def test_lookup(client: TestClient, url: str, expected: list[str]) -> None:
    assert lookup(client, url=url) == expected


def test_lookup_items_are_run_summaries(client: TestClient) -> None:
    [foo] = client.get(api_path(OUTPUTS_LOOKUP), params={"url": "sample.bam"}).json()["items"]
    assert (foo["runName"], foo["namespace"], foo["outputs"]["count"]) == ("foo-run-001", "genomics", 4)
    assert lookup(client, url="s3://bucket/runs/", limit=1) == [BAR_ID]


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "query parameter 'url': Field required"),
        ({"url": ""}, "query parameter 'url': String should have at least 1 character"),
        ({"url": "x", "limit": 5000}, "query parameter 'limit': Input should be less than or equal to 1000"),
    ],
)
def test_lookup_bad_parameters(client: TestClient, params: dict[str, Any], says: str) -> None:
    response = client.get(api_path(OUTPUTS_LOOKUP), params=params)
    assert response.status_code == 422
    assert response.json()["detail"] == says


def search(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get(api_path(OUTPUTS_SEARCH), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_search_across_runs(client: TestClient) -> None:
    body = search(client, q=".bam")
    assert [(i["runName"], i["url"], i["deleted"]) for i in body["items"]] == [
        ("foo-run-001", "s3://bucket/runs/foo/sample.bam", False),
        ("old-run", "s3://bucket/runs/old/old.bam", True),
    ]
    assert (body["total"], body["limit"], body["offset"]) == (2, 100, 0)
    item = body["items"][0]
    assert (item["runId"], item["size"], item["humanSize"], item["path"]) == (FOO_ID, 2**30, "1.0 GiB", None)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("fastqc", 2),
        ("FASTQC r2", 1),
        ("runs zip", 2),
        ("qc report html", 1),
        ("a", 5),
        ("s", 6),
        ("zip bam", 0),
        ("%", 0),
        ("_R", 2),
    ],
)
def test_search_is_a_multiword_and_any_case(client: TestClient, q: str, expected: int) -> None:
    assert search(client, q=q)["total"] == expected


def test_search_counts_to_a_hundred_past_the_page(client: TestClient, engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        outputs.upsert_outputs(
            session,
            run_id=FOO_ID,
            objects=[OutputObject(f"s3://bucket/runs/foo/many/{n:03d}.txt", 1) for n in range(150)],
        )
    body = search(client, q="many", limit=10, offset=5)
    assert (len(body["items"]), body["total"], body["totalIsLowerBound"]) == (10, 115, True)
    assert body["items"][0]["url"] == "s3://bucket/runs/foo/many/005.txt"
    body = search(client, q="many", limit=100)
    assert (len(body["items"]), body["total"], body["totalIsLowerBound"]) == (100, 150, False)
    assert search(client, q="fastqc")["totalIsLowerBound"] is False


def test_search_pages(client: TestClient) -> None:
    first, second = search(client, q="runs", limit=4), search(client, q="runs", limit=4, offset=4)
    assert first["total"] == second["total"] == 6
    urls = [i["url"] for i in first["items"] + second["items"]]
    assert urls == sorted(urls)
    assert len(set(urls)) == 6


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({}, "query parameter 'q': Field required"),
        ({"q": ""}, "query parameter 'q': String should have at least 1 character"),
        ({"q": "   "}, "query parameter 'q': String should match pattern '\\S'"),
        ({"q": "x", "offset": -3}, "query parameter 'offset': Input should be greater than or equal to 0"),
    ],
)
def test_search_needs_a_query(client: TestClient, params: dict[str, Any], says: str) -> None:
    response = client.get(api_path(OUTPUTS_SEARCH), params=params)
    assert response.status_code == 422
    assert response.json()["detail"] == says
