"""A run's task attempts through the read API and `tracker get tasks`, after the
recorded Nextflow run was reported to the trace receiver: the API on both engines,
the CLI against the real server on a loopback port."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from fastapi.testclient import TestClient
from fixtures.nextflow_trace import replay
from sqlalchemy import Engine

from tracker.api.app import create_app
from tracker.cli.main import cli
from tracker.settings import ApiSettings, Settings, TowerSettings
from tracker.store.engine import make_engine, migrate, session_factory

TOKEN = "alice-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _app(engine: Engine) -> Any:
    settings = Settings(
        database_url="sqlite://",
        api=ApiSettings(auth_mode="token", tokens={TOKEN: "alice"}),
        tower=TowerSettings(default_namespace="lab"),
    )
    return create_app(settings, session_factory(engine, readonly=True), write_sessions=session_factory(engine))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def reported(engine: Engine) -> Iterator[tuple[TestClient, str]]:
    with TestClient(_app(engine)) as client:
        replay(client, "succeeded", TOKEN)
        [run] = client.get("/api/v1/runs", headers=AUTH).json()["items"]
        yield client, run["id"]


def test_tasks_filtered_sorted_and_paged(reported: tuple[TestClient, str]) -> None:
    client, run_id = reported
    page = client.get("/api/v1/runs/sad_einstein/tasks", headers=AUTH).json()
    assert page["runId"] == run_id
    assert page["total"] == 6
    assert [t["status"] for t in page["items"]] == [
        "CACHED",
        "COMPLETED",
        "RETRIED",
        "COMPLETED",
        "COMPLETED",
        "COMPLETED",
    ]
    retried = page["items"][2]
    assert (retried["taskId"], retried["exitCode"], retried["errorAction"], retried["nativeId"]) == (
        3,
        137,
        "RETRY",
        "f3e2d1c0-0003",
    )
    query = {
        "process": "NFCORE_RNASEQ:RNASEQ:TRIMGALORE",
        "status": ["COMPLETED", "RETRIED"],
        "sort": "-task_id",
        "limit": 2,
        "offset": 1,
    }
    page = client.get(f"/api/v1/runs/{run_id}/tasks", params=query, headers=AUTH).json()
    assert [(t["taskId"], t["attempt"]) for t in page["items"]] == [(4, 1), (3, 1)]
    assert page["total"] == 3
    one = client.get(f"/api/v1/runs/{run_id}/tasks/5", headers=AUTH).json()
    assert (one["attempt"], one["status"], one["memoryBytes"], one["submittedAt"]) == (
        2,
        "COMPLETED",
        12 << 30,
        "2026-11-30T20:02:06Z",
    )


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/v1/runs/sad_einstein/tasks/99", 404, "has no task 99"),
        ("/api/v1/runs/nosuchrun/tasks", 404, "nosuchrun"),
        ("/api/v1/runs/sad_einstein/tasks?status=DONE", 422, "status"),
        ("/api/v1/runs/sad_einstein/tasks?sort=size", 422, "sort"),
        ("/api/v1/runs/sad_einstein/tasks?colour=red", 422, "unknown query parameter"),
        ("/api/v1/runs/sad_einstein/tasks/-1", 422, "task"),
        ("/api/v1/runs/sad_einstein/tasks/99999999999999999999", 422, "task"),
    ],
)
def test_bad_task_requests_are_readable(reported: tuple[TestClient, str], path: str, status: int, message: str) -> None:
    client, _ = reported
    answer = client.get(path, headers=AUTH)
    assert answer.status_code == status
    assert message in answer.json()["detail"]
    assert client.get(path).status_code == 401


@pytest.fixture
def server(engine: Engine) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    served = uvicorn.Server(uvicorn.Config(_app(engine), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started:
        assert time.monotonic() < deadline, "the server did not start"
        assert thread.is_alive(), "the server thread died"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(10)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_get_tasks_over_real_http(server: str) -> None:
    import httpx

    with httpx.Client(base_url=server, timeout=30) as http:  # a busy machine answers late, not never
        replay(http, "succeeded", TOKEN)

    def run(*args: str) -> Any:
        return CliRunner().invoke(
            cli, ["--api-url", server, "--token", TOKEN, "get", "tasks", *args], catch_exceptions=False
        )

    table = run("sad_einstein")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["TASK", "PROCESS", "TAG", "STATUS", "ATTEMPT", "EXIT", "DURATION"]
    assert lines[3].split()[:6] == ["3", "NFCORE_RNASEQ:RNASEQ:TRIMGALORE", "sample_1", "RETRIED", "1", "137"]
    assert len(lines) == 7
    wide = run("sad_einstein", "-o", "wide")
    assert "s3://lab-scratch/work/77/e0f1a24e5f60718293a4b5c6d7e8f90" in wide.output
    assert "32.0 GiB" in wide.output
    document = json.loads(run("sad_einstein", "-o", "json").output)
    assert [t["status"] for t in document["items"]][:3] == ["CACHED", "COMPLETED", "RETRIED"]
    missing = run("nosuchrun")
    assert missing.exit_code == 1
    assert "cannot get the tasks of 'nosuchrun'" in missing.output
    usage = CliRunner().invoke(cli, ["--api-url", server, "get", "tasks"])
    assert usage.exit_code == 2
    assert "usage: tracker get tasks RUN" in usage.output
