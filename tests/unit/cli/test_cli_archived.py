"""`tracker get runs --archived` offline: archived runs from the read API (answered by
an httpx MockTransport with the API's own schemas), shown as the WorkflowRuns they were."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from test_cli_commands import RUN_ID, FakeApi, answer, invoke, summary

from tracker.api import schemas
from tracker.api.client import ApiClient
from tracker.cli.archived import run_body
from tracker.cli.context import CliContext

ARCHIVED_AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    client = ApiClient("http://api.test", http=httpx.Client(transport=httpx.MockTransport(fake)))
    monkeypatch.setattr(CliContext, "api_client", property(lambda self: client))
    return fake


def archived_summary(name: str, run_id: str) -> schemas.RunSummary:
    return summary(name, run_id).model_copy(
        update={"archived": True, "archived_at": ARCHIVED_AT, "phase": "Succeeded", "state": "Succeeded"}
    )


def test_archived_runs_are_listed_as_the_runs_they_were(fake_api: FakeApi) -> None:
    page = schemas.RunPage(items=[archived_summary("old-run", RUN_ID)], total=1, limit=500, offset=0)
    fake_api.routes["/api/v1/runs"] = answer(page)
    result = invoke("--api-url", "http://api.test", "-n", "lab", "get", "runs", "--archived")
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    header, row = result.stdout.splitlines()
    assert header.split()[:4] == ["NAME", "RUN", "STATE", "OWNER"]
    assert row.split()[:4] == ["old-run", "old-run", "Succeeded", "alice"]
    asked = fake_api.requests[0].url.params
    assert (asked["archived"], asked["namespace"]) == ("true", "lab")

    as_json = json.loads(
        invoke("--api-url", "http://api.test", "-n", "lab", "get", "runs", "--archived", "-o", "json").stdout
    )
    (item,) = as_json["items"]
    assert item["kind"] == "WorkflowRun"
    assert item["status"]["id"] == RUN_ID
    assert item["metadata"]["annotations"] == {"tracker.dev/archived-at": "2026-06-01T12:00:00Z"}


def test_label_selectors_become_label_filters_and_only_equality_is_accepted(fake_api: FakeApi) -> None:
    fake_api.routes["/api/v1/runs"] = answer(schemas.RunPage(items=[], total=0, limit=500, offset=0))
    result = invoke("--api-url", "http://api.test", "-n", "lab", "get", "runs", "--archived", "-l", "team=rna,x=y")
    assert result.exit_code == 0
    assert result.stderr == "No archived runs found in lab namespace.\n"
    assert fake_api.requests[0].url.params.get_list("label") == ["team=rna", "x=y"]
    refused = invoke("--api-url", "http://api.test", "-n", "lab", "get", "runs", "--archived", "-l", "team!=rna")
    assert refused.exit_code == 2
    assert "key=value terms only" in refused.stderr


def test_archived_needs_the_read_api_and_cannot_be_watched() -> None:
    no_api = invoke("-n", "lab", "get", "runs", "--archived")
    assert no_api.exit_code == 1
    assert no_api.stderr == "tracker: archived runs live in the index: pass --api-url or set TRACKER_API_URL\n"
    watched = invoke("--api-url", "http://api.test", "-n", "lab", "get", "runs", "--archived", "-w")
    assert watched.exit_code == 2
    assert "cannot be watched" in watched.stderr
    jobs = invoke("--api-url", "http://api.test", "-n", "lab", "get", "jobs", "--archived")
    assert jobs.exit_code == 2


def test_an_archived_run_detail_keeps_its_conditions_processes_and_workflow() -> None:
    detail = schemas.RunDetail(
        **archived_summary("old-run", RUN_ID).model_dump(),
        workflow=schemas.Workflow(repository="https://github.com/nf-core/rnaseq", revision="3.14"),
        work_dir="s3://work/old-run/",
        conditions=[
            schemas.Condition(
                type="OutputsIndexed", status="True", reason="Indexed", last_transition_time="2026-06-01T11:00:00Z"
            )
        ],
        processes=[schemas.Process(name="ALIGN", succeeded=4)],
    )
    body = run_body(detail)
    assert body["spec"]["workflow"] == {"repository": "https://github.com/nf-core/rnaseq", "revision": "3.14"}
    assert body["spec"]["workDir"] == "s3://work/old-run/"
    assert body["status"]["conditions"] == [
        {"type": "OutputsIndexed", "status": "True", "reason": "Indexed", "lastTransitionTime": "2026-06-01T11:00:00Z"}
    ]
    assert body["status"]["processes"][0]["name"] == "ALIGN"
    assert body["status"]["processes"][0]["succeeded"] == 4
