"""The Nextflow trace receiver over HTTP (Starlette's test client, the real app, a
SQLite file or PostgreSQL index): the recorded Nextflow request sequences replayed
as the client sends them, and every refusal a 4xx that writes nothing."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fixtures.nextflow_trace import authorization, load, replay, requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from tracker.api.app import create_app
from tracker.settings import ApiSettings, Settings, TowerSettings
from tracker.store import tasks
from tracker.store.engine import make_engine, migrate, session_factory
from tracker.store.models import Run, Task, TraceWorkflow

ALICE, BOB = "alice-token", "bob-token"
ALICE_SA = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"  # a JWT-shaped token: sent as Bearer
USERS = {ALICE: "alice", BOB: "bob", ALICE_SA: "alice"}
UA = {"User-Agent": "Nextflow/25.10.2"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def make_client(engine: Engine) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(auth_mode: str = "token", auth_mode_of_receiver: str = "api", **tower: Any) -> TestClient:
        settings = Settings(
            database_url="sqlite://",
            api=ApiSettings(auth_mode=auth_mode, tokens=USERS),
            tower=TowerSettings(**({"default_namespace": "lab", "auth_mode": auth_mode_of_receiver} | tower)),
        )
        app = create_app(settings, session_factory(engine, readonly=True), write_sessions=session_factory(engine))
        client = TestClient(app).__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def _api(client: TestClient, path: str) -> Any:
    answer = client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {ALICE}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _count(engine: Engine, model: Any) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_successful_run_with_cached_and_retried_tasks(client: TestClient, engine: Engine) -> None:
    seen: list[tuple[str, Any]] = []

    def check(step: dict[str, Any], answer: Any) -> None:
        seen.append((step["path"].rsplit("/", 1)[-1], answer.json()))
        if step["path"].endswith("/begin"):
            run = _api(client, f"/runs/{answer.json()['watchUrl'].rsplit('/', 1)[-1]}")
            assert (run["phase"], run["engine"], run["owner"], run["namespace"]) == (
                "Running",
                "nextflow",
                "alice",
                "lab",
            )
            assert run["outputDir"] == "s3://lab-results/rnaseq/"
        if step["path"].endswith("/heartbeat"):
            run = _api(client, f"/runs/{answer.json()['watchUrl'].rsplit('/', 1)[-1]}")
            trim = next(p for p in run["processes"] if p["name"].endswith("TRIMGALORE"))
            assert (trim["running"], trim["submitted"], trim["retried"], trim["failed"]) == (1, 1, 1, 0)
            assert run["lastHeartbeatAt"] == "2026-11-30T20:05:20Z"

    [workflow_id] = replay(client, "succeeded", ALICE, check=check)
    assert len(workflow_id) <= 16
    create, begin = seen[0][1], seen[1][1]
    assert create["workflowId"] == begin["workflowId"] == workflow_id
    run_id = begin["watchUrl"].rsplit("/", 1)[-1]
    assert begin["watchUrl"] == f"http://testserver/runs/{run_id}"
    run = _api(client, f"/runs/{run_id}")
    assert (run["runName"], run["phase"], run["state"], run["errorMessage"]) == (
        "sad_einstein",
        "Succeeded",
        "Succeeded",
        None,
    )
    assert run["workflow"]["commit"] == "b89fac32650aacc86fcda9ee77e00612a1d77066"
    assert run["sessionId"] == "4f9a3c1e-8b2d-4e6f-9a0c-1d2e3f4a5b6c"
    assert run["params"]["genome"] == "GRCh38"
    assert (run["startedAt"], run["completedAt"], run["peakConcurrency"]) == (
        "2026-11-30T20:00:00Z",
        "2026-11-30T20:15:09Z",
        3,
    )
    counts = {p["name"].rsplit(":", 1)[1]: p for p in run["processes"]}
    assert (counts["FASTQC"]["succeeded"], counts["FASTQC"]["cached"]) == (1, 1)
    assert (counts["TRIMGALORE"]["succeeded"], counts["TRIMGALORE"]["failed"], counts["TRIMGALORE"]["retried"]) == (
        2,
        0,
        1,
    )
    with session_factory(engine)() as session:
        page, total = tasks.list_tasks(session, run_id=run_id)
    assert total == 6
    assert [(t.task_id, t.status, t.attempt, t.exit_code) for t in page] == [
        (1, "CACHED", 1, 0),
        (2, "COMPLETED", 1, 0),
        (3, "RETRIED", 1, 137),
        (4, "COMPLETED", 1, 0),
        (5, "COMPLETED", 2, 0),
        (6, "COMPLETED", 1, 0),
    ]
    assert len(page[3].tag or "") == 255
    assert page[5].cpus == 8
    assert page[0].execution == workflow_id


def test_a_failed_run_reported_with_a_bearer_token(client: TestClient) -> None:
    replay(client, "failed", ALICE_SA)
    [run] = _api(client, "/runs?owner=alice")["items"]
    detail = _api(client, f"/runs/{run['id']}")
    assert (detail["phase"], detail["completedAt"]) == ("Failed", "2026-11-30T20:11:18Z")
    assert detail["errorMessage"].startswith("Process `NFCORE_RNASEQ:RNASEQ:FASTQC (sample_1)` terminated")
    assert "Command executed:" in detail["errorMessage"]
    assert (detail["processes"][0]["failed"], detail["processes"][0]["aborted"]) == (1, 1)


def test_a_resumed_session_lands_in_the_run_history(client: TestClient, engine: Engine) -> None:
    first, second = replay(client, "resumed", ALICE)
    assert first != second
    [run] = _api(client, "/runs")["items"]
    detail = _api(client, f"/runs/{run['id']}")
    assert (detail["runName"], detail["phase"]) == ("tiny_turing", "Succeeded")
    assert [(e["current"], e["phase"]) for e in detail["executions"]] == [(True, "Succeeded"), (False, "Failed")]
    with session_factory(engine)() as session:
        earlier, _ = tasks.list_tasks(session, run_id=run["id"], execution=first)
        later, _ = tasks.list_tasks(session, run_id=run["id"], execution=second)
    assert [t.status for t in earlier] == ["COMPLETED", "FAILED"]
    assert [t.status for t in later] == ["CACHED", "COMPLETED"]


def test_a_silent_runner_that_comes_back(client: TestClient) -> None:
    beats: list[str] = []

    def on_silence(_workflow_id: str) -> None:
        [run] = _api(client, "/runs")["items"]
        beats.append(run["lastHeartbeatAt"])

    replay(client, "silent", ALICE, on_silence=on_silence)
    [run] = _api(client, "/runs")["items"]
    assert beats == ["2026-11-30T20:30:07Z"]
    assert (run["phase"], run["lastHeartbeatAt"]) == ("Succeeded", "2026-11-30T20:43:02Z")


def _create(client: TestClient, token: str = ALICE, **body: Any) -> str:
    payload = {"sessionId": "s-1", "runName": "r1", "workflowId": None, "instant": 1764619200000} | body
    answer = client.post("/tower/trace/create", json=payload, headers={"Authorization": authorization(token, "basic")})
    assert answer.status_code == 200, answer.text
    workflow_id: str = answer.json()["workflowId"]
    return workflow_id


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing access token"),
        ({"Authorization": authorization("wrong", "basic")}, "invalid access token"),
        ({"Authorization": authorization("wrong", "bearer")}, "invalid access token"),
        ({"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}, "missing access token"),
        ({"Authorization": "Basic %%%"}, "missing access token"),
    ],
)
def test_bad_credentials_are_401_and_write_nothing(
    client: TestClient, engine: Engine, headers: dict[str, str], message: str
) -> None:
    answer = client.post("/tower/trace/create", json={"runName": "r1", "sessionId": "s"}, headers=headers | UA)
    assert answer.status_code == 401
    assert message in answer.json()["detail"]
    assert _count(engine, TraceWorkflow) == 0
    assert _count(engine, Run) == 0


def test_without_authentication_the_receiver_refuses_everyone(make_client: Callable[..., TestClient]) -> None:
    client = make_client(auth_mode="none")
    answer = client.post(
        "/tower/trace/create", json={"runName": "r1"}, headers={"Authorization": authorization(ALICE, "basic")}
    )
    assert answer.status_code == 401
    assert "without authentication" in answer.json()["detail"]


def test_the_receiver_checks_tokens_of_its_own_when_the_read_api_is_open(
    make_client: Callable[..., TestClient], engine: Engine
) -> None:
    client = make_client(auth_mode="none", auth_mode_of_receiver="token")
    assert client.get("/api/v1/runs").status_code == 200  # the read API asks for no token
    body = {"runName": "r1", "sessionId": "s-1", "instant": 1764619200000}
    answer = client.post("/tower/trace/create", json=body, headers={"Authorization": authorization("nope", "basic")})
    assert answer.status_code == 401
    assert _count(engine, TraceWorkflow) == 0
    answer = client.post("/tower/trace/create", json=body, headers={"Authorization": authorization(ALICE, "basic")})
    assert answer.status_code == 200
    assert client.get("/api/v1/runs").json()["items"][0]["owner"] == USERS[ALICE]


def test_malformed_bodies_are_4xx_and_write_nothing(client: TestClient, engine: Engine) -> None:
    workflow_id = _create(client)
    auth = {"Authorization": authorization(ALICE, "basic")} | UA
    progress = f"/tower/trace/{workflow_id}/progress"
    answer = client.put(progress, content=b'{"tasks": [', headers=auth | {"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert "JSON decode error" in answer.json()["detail"]
    many = {"tasks": [{"taskId": i, "status": "RUNNING"} for i in range(101)], "instant": 1764619200000}
    answer = client.put(progress, json=many, headers=auth)
    assert answer.status_code == 422
    assert "at most 100 items" in answer.json()["detail"]
    bad = {"tasks": [{"taskId": 1, "status": "RUNNING"}, {"taskId": 2, "status": "RUNNING", "cpus": "lots"}]}
    answer = client.put(progress, json=bad, headers=auth)
    assert answer.status_code == 422
    assert answer.json()["detail"] == "tasks[1].cpus: expected a number, got 'lots'"
    answer = client.put(f"/tower/trace/{workflow_id}/begin", json={"workflow": {"start": "noon"}}, headers=auth)
    assert answer.status_code == 422
    assert "workflow.start" in answer.json()["detail"]
    answer = client.put(f"/tower/trace/{workflow_id}/complete", json={"progress": {}}, headers=auth)
    assert answer.status_code == 422
    assert "workflow" in answer.json()["detail"]
    assert _count(engine, Task) == 0
    [run] = _api(client, "/runs")["items"]
    assert run["phase"] == "Submitted"  # none of the refused calls changed it


def test_unknown_workflow_ids_and_other_peoples_runs(client: TestClient, engine: Engine) -> None:
    workflow_id = _create(client)
    for path in ("/trace/nosuchworkflow/progress", "/trace/" + "x" * 40 + "/heartbeat"):
        answer = client.put(
            "/tower" + path, json={"tasks": []}, headers={"Authorization": authorization(ALICE, "basic")}
        )
        assert answer.status_code == 404
        assert "unknown workflow id" in answer.json()["detail"]
    answer = client.put(
        f"/tower/trace/{workflow_id}/progress",
        json={"tasks": [{"taskId": 1}]},
        headers={"Authorization": authorization(BOB, "basic")},
    )
    assert answer.status_code == 403
    assert "created by 'alice', not 'bob'" in answer.json()["detail"]
    assert _count(engine, Task) == 0
    answer = client.patch(
        f"/tower/workflow/{workflow_id}",
        json={"schedRunId": "abc"},
        headers={"Authorization": authorization(ALICE, "basic")},
    )
    assert answer.status_code == 200
    assert answer.json()["workflowId"] == workflow_id


def test_launcher_bound_runs_and_run_name_clashes(client: TestClient) -> None:
    first = _create(client, runName="shared", sessionId="s-a")
    run_id = _api(client, "/runs")["items"][0]["id"]
    bound = _create(client, runName="other", sessionId="s-b", workflowId=run_id)  # TOWER_WORKFLOW_ID
    assert bound != first
    assert len(_api(client, "/runs")["items"]) == 1
    answer = client.post(
        "/tower/trace/create",
        json={"runName": "x", "workflowId": "nope"},
        headers={"Authorization": authorization(ALICE, "basic")},
    )
    assert answer.status_code == 404
    assert "names no run" in answer.json()["detail"]
    answer = client.post(
        "/tower/trace/create",
        json={"runName": "shared", "sessionId": "s-c"},
        headers={"Authorization": authorization(BOB, "basic")},
    )
    assert answer.status_code == 409
    assert "already used" in answer.json()["detail"]
    answer = client.post(
        "/tower/trace/create",
        json={"runName": "mine", "workflowId": run_id},
        headers={"Authorization": authorization(BOB, "basic")},
    )
    assert answer.status_code == 403


def test_workspaces_select_namespaces(make_client: Callable[..., TestClient]) -> None:
    client = make_client(default_namespace=None, workspaces={"42": "genomics"})
    auth = {"Authorization": authorization(ALICE, "basic")}
    assert (
        client.post(
            "/tower/trace/create?workspaceId=42", json={"runName": "r", "sessionId": "s"}, headers=auth
        ).status_code
        == 200
    )
    assert _api(client, "/runs")["items"][0]["namespace"] == "genomics"
    answer = client.post("/tower/trace/create?workspaceId=7", json={"runName": "r2"}, headers=auth)
    assert answer.status_code == 403
    assert "workspace '7' is not configured" in answer.json()["detail"]
    answer = client.post("/tower/trace/create", json={"runName": "r3"}, headers=auth)
    assert answer.status_code == 403
    assert "no namespace for user 'alice'" in answer.json()["detail"]


def test_user_info_and_base_path_and_openapi(make_client: Callable[..., TestClient]) -> None:
    client = make_client(base_path="/nf/tower")
    answer = client.get("/nf/tower/user-info", headers={"Authorization": authorization(ALICE, "bearer")})
    assert answer.status_code == 200
    assert answer.json()["user"]["userName"] == "alice"
    assert client.get("/tower/user-info").status_code == 404
    document = client.get("/api/v1/openapi.json").json()
    assert {
        "/nf/tower/trace/create",
        "/nf/tower/trace/{workflow_id}/progress",
        "/nf/tower/workflow/{workflow_id}",
        "/nf/tower/user-info",
    } <= set(document["paths"])


def test_every_vector_request_is_what_nextflow_sends() -> None:
    for name in ("succeeded", "failed", "resumed", "silent"):
        vector = load(name)
        assert vector["auth"] in ("basic", "bearer")
        for step in requests(name):
            assert step["headers"]["User-Agent"].startswith("Nextflow/")
            assert len(json.dumps(step["body"])) < 200_000
            assert all(len(t.get("tag") or "") <= 255 for t in step["body"].get("tasks", []))


# -- never a 5xx: generated bodies (NULs, huge numbers, far dates, wrong types) ---------
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "\x00",
            "9999-12-31T23:59:59-05:00",
            "2026-11-30T21:00+01:00",
            "s3://lab/x\x00/",
            "-",
            "RETRY",
            "CACHED",
            "x" * 300,
        ]
    )
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_FIELDS = (
    "status",
    "hash",
    "name",
    "process",
    "tag",
    "attempt",
    "nativeId",
    "submit",
    "start",
    "complete",
    "duration",
    "realtime",
    "cpus",
    "memory",
    "time",
    "pcpu",
    "peakRss",
    "readBytes",
    "writeBytes",
    "exit",
    "errorAction",
    "workdir",
    "executor",
    "machineType",
)
_tasks = st.fixed_dictionaries({"taskId": st.integers(-1, 2**64)}, optional=dict.fromkeys(_FIELDS, _json))
_process = st.fixed_dictionaries(
    {"name": _json},
    optional=dict.fromkeys(
        ("succeeded", "failed", "running", "retries", "cached", "pending", "submitted", "aborted"), _json
    ),
)
_bodies = st.fixed_dictionaries(
    {},
    optional={
        "tasks": st.lists(_tasks, max_size=4),
        "instant": _json,
        "progress": _json | st.fixed_dictionaries({"processes": st.lists(_process, max_size=3), "peakRunning": _json}),
        "workflow": _json
        | st.fixed_dictionaries(
            {},
            optional=dict.fromkeys(
                (
                    "start",
                    "complete",
                    "success",
                    "errorMessage",
                    "errorReport",
                    "params",
                    "outputDir",
                    "workDir",
                    "sessionId",
                    "commitId",
                    "runName",
                ),
                _json,
            ),
        ),
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_bodies, call=st.sampled_from(["begin", "progress", "heartbeat", "complete"]))
def test_generated_bodies_never_get_a_5xx(client: TestClient, body: dict[str, Any], call: str) -> None:
    workflow_id = _create(client, runName=f"r-{uuid.uuid4().hex[:8]}", sessionId=uuid.uuid4().hex)
    answer = client.put(
        f"/tower/trace/{workflow_id}/{call}",
        content=json.dumps(body).encode(),
        headers={"Authorization": authorization(ALICE, "basic")} | JSON,
    )
    assert answer.status_code < 500, answer.text
    assert answer.status_code in (200, 422), answer.text


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.fixed_dictionaries(
        {}, optional=dict.fromkeys(("sessionId", "runName", "repository", "workflowId", "instant"), _json)
    )
)
def test_generated_creates_never_get_a_5xx(client: TestClient, body: dict[str, Any]) -> None:
    answer = client.post(
        "/tower/trace/create",
        content=json.dumps(body).encode(),
        headers={"Authorization": authorization(ALICE, "basic")} | JSON,
    )
    assert answer.status_code < 500, answer.text
