"""`tracker.api.client.ApiClient`, the CLI's typed client, against the app: every
method, and errors as `ApiError(status, message)`."""

from __future__ import annotations

import pytest
from api_seed import FOO_ID, JOB_DELETE_FOO, JOB_INDEX_FOO, OLD_ID, TOKEN
from fastapi.testclient import TestClient

from tracker.api import schemas
from tracker.api.client import ApiClient, ApiError


@pytest.fixture
def api(client: TestClient) -> ApiClient:
    return ApiClient("http://testserver/", http=client)


def test_lookup(api: ApiClient) -> None:
    found = api.lookup("s3://bucket/runs/foo/sample.bam")
    assert isinstance(found, schemas.LookupResult)
    assert [(r.run_name, r.id) for r in found.items] == [("foo-run-001", FOO_ID)]
    assert api.lookup("s3://nowhere/").items == []


def test_search(api: ApiClient) -> None:
    page = api.search(["FASTQC", "zip"], limit=1)
    assert page.total == 2
    assert [m.url for m in page.items] == ["s3://bucket/runs/foo/qc/fastqc/a_R1.zip"]
    assert api.search("zip", offset=1).items[0].run_name == "foo-run-001"


def test_runs_and_run(api: ApiClient) -> None:
    page = api.runs(owner="alice", labels={"team": "rna"}, sort="run_name")
    assert [r.id for r in page.items] == [FOO_ID]
    assert page.total == 1
    assert [r.id for r in api.runs(state=["Succeeded"], created_before="2026-05-13T19:00:30Z").items] == [OLD_ID]
    run = api.run("foo-run-001")
    assert isinstance(run, schemas.RunDetail)
    assert (run.id, run.workflow.commit, run.outputs.count, run.executions[1].phase) == (
        FOO_ID,
        "abc123def",
        4,
        "Failed",
    )
    assert api.run("twin", namespace="lab-a").namespace == "lab-a"
    assert [p.name for p in run.processes] == ["FASTQC", "ALIGN"]


def test_run_outputs(api: ApiClient) -> None:
    root = api.run_outputs("foo-run-001")
    assert [d.path for d in root.directories] == ["qc/"]
    assert [f.path for f in root.files] == ["sample.bam"]
    assert [f.path for f in api.run_outputs("foo-run-001", dir="qc/fastqc", limit=1, offset=1).files] == [
        "qc/fastqc/a_R2.zip"
    ]
    assert api.run_outputs("foo-run-001", q=["r1", "zip"]).total == 1


def test_jobs(api: ApiClient) -> None:
    assert [j.id for j in api.run_jobs("foo-run-001").items] == [JOB_DELETE_FOO, JOB_INDEX_FOO]
    assert [j.id for j in api.jobs(run="foo-run-001", phase="Succeeded").items] == [JOB_INDEX_FOO]
    job = api.job(JOB_DELETE_FOO)
    assert (job.operation, job.phase, job.counters.objects_deleted) == ("delete_outputs", "Running", 1)


@pytest.mark.parametrize(
    ("call", "status", "message"),
    [
        (lambda api: api.run("no-such-run"), 404, "no run 'no-such-run' in the index"),
        (
            lambda api: api.run("twin"),
            409,
            "run name 'twin' exists in several namespaces (lab-a, lab-b): give a namespace or use the run id",
        ),
        (lambda api: api.job("nope"), 404, "no lifecycle job 'nope'"),
        (lambda api: api.search(" "), 422, "query parameter 'q': String should match pattern '\\S'"),
        (lambda api: api.runs(sort="colour"), 422, None),
    ],
)
def test_errors_carry_status_and_the_servers_message(api: ApiClient, call, status: int, message: str | None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as raised:
        call(api)
    assert raised.value.status == status
    assert message is None or str(raised.value) == message


def test_token_and_base_url_with_api_prefix(token_client: TestClient) -> None:
    with pytest.raises(ApiError) as raised:
        ApiClient("http://testserver", http=token_client).lookup("foo")
    assert raised.value.status == 401
    assert str(raised.value) == (
        "not authenticated: missing bearer token (Authorization: Bearer TOKEN) (check --token / TRACKER_TOKEN)"
    )
    with pytest.raises(ApiError, match="not authenticated: invalid bearer token"):
        ApiClient("http://testserver", token="wrong", http=token_client).lookup("foo")
    api = ApiClient("http://testserver/api/v1/", token=TOKEN, http=token_client)
    assert [r.id for r in api.lookup("sample.bam").items] == [FOO_ID]


def test_unreachable_api() -> None:
    with ApiClient("http://127.0.0.1:9", timeout=5) as api, pytest.raises(ApiError) as raised:
        api.job("x")
    assert raised.value.status == 0
    assert str(raised.value).startswith("cannot reach the read API at http://127.0.0.1:9")


def test_an_answer_that_is_not_the_api(client: TestClient) -> None:
    with pytest.raises(ApiError, match="unexpected answer from the read API"):
        ApiClient("http://testserver", http=client)._get(schemas.Job, "/healthz", {})
