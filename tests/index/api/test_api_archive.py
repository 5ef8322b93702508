"""Archived runs in the read API and the pages: found by run name and id as before,
marked `archived` (with when), and filtered by `archived=` in listings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from api_seed import BAR_ID, FOO_ID, OLD_ID, TWIN_A_ID, TWIN_B_ID
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tracker.api.paths import RUN, RUNS, api_path
from tracker.store import archive
from tracker.store.engine import session_factory

ARCHIVED_AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def archived(engine: Engine) -> str:
    """old-run, archived: its resource removed by the archiver."""
    with session_factory(engine).begin() as session:
        archive.mark_archived(session, run_ids=[OLD_ID], at=ARCHIVED_AT)
        archive.mark_removed(session, run_ids=[OLD_ID], at=ARCHIVED_AT)
    return OLD_ID


@pytest.mark.parametrize("ref", ["old-run", OLD_ID])
def test_an_archived_run_is_found_by_name_and_id_and_says_so(client: TestClient, archived: str, ref: str) -> None:
    body = client.get(api_path(RUN, run=ref)).json()
    assert body["id"] == archived
    assert body["archived"] is True
    assert datetime.fromisoformat(body["archivedAt"].replace("Z", "+00:00")) == ARCHIVED_AT
    live = client.get(api_path(RUN, run=FOO_ID)).json()
    assert live["archived"] is False
    assert live["archivedAt"] is None


def test_listings_filter_archived_runs(client: TestClient, archived: str) -> None:
    def listed(**params: str) -> list[str]:
        response = client.get(api_path(RUNS), params=params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert listed(archived="true") == [archived]
    assert set(listed(archived="false")) == {TWIN_B_ID, TWIN_A_ID, BAR_ID, FOO_ID}
    assert archived in listed()
    assert client.get(api_path(RUNS), params={"archived": "maybe"}).status_code == 422


def test_the_pages_mark_an_archived_run(client: TestClient, archived: str) -> None:
    detail = client.get("/runs/old-run")
    assert detail.status_code == 200
    assert 'id="run-archived"' in detail.text
    assert 'id="run-archived"' not in client.get(f"/runs/{FOO_ID}").text
    listing = client.get("/runs")
    row = listing.text.split(f'data-run-id="{archived}"', 1)[1].split("</tr>", 1)[0]
    assert ">Archived</span>" in row
    other = listing.text.split(f'data-run-id="{FOO_ID}"', 1)[1].split("</tr>", 1)[0]
    assert "Archived" not in other
