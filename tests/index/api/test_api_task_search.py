"""`GET /api/v1/runs/{run}/tasks?q=` on both engines, after the recorded Nextflow run
was reported to the trace receiver: a substring of the name, tag or hash, combined
with the other filters, bounded (a longer one is a readable 422), and documented in
the OpenAPI description."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from fixtures.nextflow_trace import replay
from sqlalchemy import Engine

from tracker.api.app import create_app
from tracker.settings import ApiSettings, Settings, TowerSettings
from tracker.store.engine import make_engine, migrate, session_factory

TOKEN = "alice-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TASKS = "/api/v1/runs/sad_einstein/tasks"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    engine: Engine = make_engine(db_url)
    migrate(engine)
    settings = Settings(
        database_url="sqlite://",
        api=ApiSettings(auth_mode="token", tokens={TOKEN: "alice"}),
        tower=TowerSettings(default_namespace="lab"),
    )
    app = create_app(settings, session_factory(engine, readonly=True), write_sessions=session_factory(engine))
    with TestClient(app) as test_client:
        replay(test_client, "succeeded", TOKEN)
        yield test_client
    engine.dispose()


def ids(client: TestClient, **params: object) -> list[int]:
    answer = client.get(TASKS, params=params, headers=AUTH)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert page["total"] == len(page["items"])
    return [t["taskId"] for t in page["items"]]


def test_q_searches_name_tag_and_hash(client: TestClient) -> None:
    assert ids(client, q="9C/41D0") == [2]  # a hash, any ASCII case
    assert ids(client, q="sample_1") == [1, 3, 5, 6]  # the tag (and the name)
    assert ids(client, q="TRIMGALORE (sample_1)") == [3, 5]
    assert ids(client, q="sample_1", status="COMPLETED", process="NFCORE_RNASEQ:RNASEQ:TRIMGALORE") == [5]
    assert ids(client, q="sample%") == []
    assert ids(client, q="a\x00b") == []
    assert ids(client, q=" ") == [1, 2, 3, 4, 5, 6]


def test_q_is_bounded_and_documented(client: TestClient) -> None:
    answer = client.get(TASKS, params={"q": "x" * 201}, headers=AUTH)
    assert answer.status_code == 422
    assert "q" in answer.json()["detail"]
    assert "200" in answer.json()["detail"]
    assert ids(client, q="x" * 200) == [4]  # its tag is sample_XXX...
    operation = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/runs/{run}/tasks"]["get"]
    [q] = [p for p in operation["parameters"] if p["name"] == "q"]
    assert "name, tag or hash" in q["description"]
    assert q["schema"]["anyOf"][0]["maxLength"] == 200
