"""The API's S3 reads against the local S3 server: the runner log's tail (a ranged GET)
of a log larger than the tail, the whole log streamed, task streams, a missing object
and S3 down as readable answers, and tracker.yml reports proxied with their limits.
The run is the recorded `succeeded` Nextflow run, reported through the API's own
trace receiver, its work and output dirs moved into the test's bucket."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fixtures import runfiles
from fixtures.nextflow_trace import replay
from sqlalchemy import Engine

from localcluster.processes import free_port
from localcluster.s3server import S3Server
from tracker.api.app import create_app
from tracker.settings import (
    ApiSettings,
    LogSettings,
    ReportSettings,
    S3ReadSettings,
    S3Settings,
    Settings,
    TowerSettings,
)
from tracker.store.engine import make_engine, migrate, session_factory

pytestmark = pytest.mark.s3
TOKEN = "alice-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RUN = runfiles.RUN_NAME
MiB = 1024 * 1024


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch, s3_server: S3Server) -> None:
    """The API finds its S3 credentials the standard way: the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)


@pytest.fixture
def make_client(engine: Engine, s3_server: S3Server, s3_credentials: None) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(endpoint: str | None = None, **groups: Any) -> TestClient:
        settings = Settings(
            database_url="sqlite://",
            api=ApiSettings(auth_mode="token", tokens={TOKEN: "alice"}),
            tower=TowerSettings(default_namespace="lab"),
            s3=S3Settings(endpoint_url=endpoint or s3_server.endpoint_url),
            **(
                {"s3_reads": S3ReadSettings(connect_timeout_seconds=1, read_timeout_seconds=5, max_attempts=1)} | groups
            ),
        )
        app = create_app(settings, session_factory(engine, readonly=True), write_sessions=session_factory(engine))
        client = TestClient(app).__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def report(client: TestClient, bucket: str, *, log_file: str | None = None) -> None:
    replay(client, "succeeded", TOKEN, substitute=runfiles.substitutions(bucket, log_file=log_file))


def test_the_log_tab_shows_the_last_mebibyte_of_a_larger_log(
    make_client: Callable[..., TestClient], s3_server: S3Server, s3_bucket: str
) -> None:
    client = make_client()
    report(client, s3_bucket, log_file=f"s3://{s3_bucket}/{runfiles.LOG_KEY}")
    files = runfiles.upload(s3_server.client(), s3_bucket, log_lines=40_000)  # 2.44 MiB
    whole = files[runfiles.LOG_KEY]

    tail = client.get(f"/api/v1/runs/{RUN}/log", headers=AUTH)
    assert tail.status_code == 200, tail.text
    body = tail.json()
    assert body["url"] == f"s3://{s3_bucket}/{runfiles.LOG_KEY}"
    assert body["size"] == len(whole)
    assert body["start"] == len(whole) - MiB
    assert body["truncated"] is True
    # the last MiB, its partial first line dropped: whole lines up to the very end
    assert body["text"].encode() == whole[len(whole) - MiB :].split(b"\n", 1)[1]
    assert body["text"].endswith("00039999 DEBUG nextflow.Session - a log line padded to 64 bytes\n")

    small = client.get(f"/api/v1/runs/{RUN}/log", params={"bytes": 640}, headers=AUTH).json()
    assert small["text"].splitlines()[0].startswith("00039991 ")  # 10 lines, the first one partial: dropped
    too_much = client.get(f"/api/v1/runs/{RUN}/log", params={"bytes": 9 * MiB}, headers=AUTH)
    assert too_much.status_code == 422
    assert "at most" in too_much.json()["detail"]


def test_the_whole_log_downloads_streamed_as_plain_text(
    make_client: Callable[..., TestClient], s3_server: S3Server, s3_bucket: str
) -> None:
    client = make_client(s3_reads=S3ReadSettings(chunk_bytes=64 * 1024))
    report(client, s3_bucket, log_file=f"s3://{s3_bucket}/{runfiles.LOG_KEY}")
    whole = runfiles.upload(s3_server.client(), s3_bucket, log_lines=40_000)[runfiles.LOG_KEY]
    chunks: list[bytes] = []
    with client.stream("GET", f"/api/v1/runs/{RUN}/log/download", headers=AUTH) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/plain; charset=utf-8"
        assert answer.headers["content-disposition"] == 'attachment; filename="nextflow.log"'
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-length"] == str(len(whole))
        chunks.extend(answer.iter_raw())
    assert b"".join(chunks) == whole
    assert len(chunks) > 1  # streamed, not one body


def test_without_a_reported_log_file_the_configured_path_under_the_work_dir_is_read(
    make_client: Callable[..., TestClient], s3_server: S3Server, s3_bucket: str
) -> None:
    client = make_client(logs=LogSettings(runner_log_path="logs/{run_name}.log"))
    report(client, s3_bucket)
    missing = client.get(f"/api/v1/runs/{RUN}/log", headers=AUTH)
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"s3://{s3_bucket}/work/logs/{RUN}.log does not exist (yet, or any more)"
    s3_server.client().put_object(Bucket=s3_bucket, Key=f"work/logs/{RUN}.log", Body=b"N E X T F L O W\n")
    assert client.get(f"/api/v1/runs/{RUN}/log", headers=AUTH).json()["text"] == "N E X T F L O W\n"


@pytest.mark.parametrize(
    ("log_file", "message"),
    [
        ("file:///home/alice/work/.nextflow.log", "is a local path on the runner's machine"),
        ("s3://another-bucket/work/.nextflow.log", "lies outside the run's work and output directories"),
    ],
)
def test_a_log_the_api_may_not_read_is_a_readable_404(
    make_client: Callable[..., TestClient], s3_bucket: str, log_file: str, message: str
) -> None:
    client = make_client()
    report(client, s3_bucket, log_file=log_file)
    answer = client.get(f"/api/v1/runs/{RUN}/log", headers=AUTH)
    assert answer.status_code == 404
    assert message in answer.json()["detail"]


def test_task_streams_come_from_the_task_work_dir(
    make_client: Callable[..., TestClient], s3_server: S3Server, s3_bucket: str
) -> None:
    client = make_client()
    report(client, s3_bucket)
    runfiles.upload(s3_server.client(), s3_bucket, log_lines=1)
    stdout = client.get(f"/api/v1/runs/{RUN}/tasks/2/log/stdout", headers=AUTH)
    assert stdout.status_code == 200, stdout.text
    assert stdout.json()["text"] == "fastqc stdout: analysis complete for sample_2\n"
    assert stdout.json()["url"] == f"s3://{s3_bucket}/{runfiles.TASK_DIR}.command.out"
    stderr = client.get(f"/api/v1/runs/{RUN}/tasks/2/log/stderr", headers=AUTH)
    assert stderr.status_code == 404
    assert stderr.json()["detail"].endswith(".command.err does not exist (yet, or any more)")
    with client.stream("GET", f"/api/v1/runs/{RUN}/tasks/2/log/log/download", headers=AUTH) as answer:
        assert answer.read() == b"command log of sample_2\n"
    assert client.get(f"/api/v1/runs/{RUN}/tasks/99/log/stdout", headers=AUTH).status_code == 404
    assert client.get(f"/api/v1/runs/{RUN}/tasks/2/log/env", headers=AUTH).status_code == 422


def test_s3_down_is_a_readable_503_and_the_page_says_so(make_client: Callable[..., TestClient], s3_bucket: str) -> None:
    client = make_client(endpoint=f"http://127.0.0.1:{free_port()}")  # nothing listens there
    report(client, s3_bucket, log_file=f"s3://{s3_bucket}/{runfiles.LOG_KEY}")
    answer = client.get(f"/api/v1/runs/{RUN}/log", headers=AUTH)
    assert answer.status_code == 503
    assert answer.json()["detail"].startswith("S3 is unavailable:")
    page = client.get(f"/runs/{RUN}", params={"tab": "logs"}, headers=AUTH)
    assert page.status_code == 200
    assert "The log cannot be read right now: S3 is unavailable" in page.text


def test_reports_resolve_to_indexed_outputs_and_are_proxied_sandboxed(
    make_client: Callable[..., TestClient], engine: Engine, s3_server: S3Server, s3_bucket: str
) -> None:
    client = make_client(reports=ReportSettings(max_bytes=1000))
    report(client, s3_bucket)
    files = runfiles.upload(s3_server.client(), s3_bucket, log_lines=1)
    assert client.get(f"/api/v1/runs/{RUN}/reports", headers=AUTH).json()["items"] == []  # nothing indexed yet
    runfiles.index_outputs(engine, s3_bucket, files)

    listed = client.get(f"/api/v1/runs/{RUN}/reports", headers=AUTH).json()
    assert [(r["number"], r["title"], r["kind"]) for r in listed["items"]] == [
        (1, "QC report", "html"),
        (2, "PCA plot", "image"),
        (3, "Read counts", "file"),
    ]
    assert listed["problems"] == [
        "report 5: path '../other/x.html' contains an empty, '.' or '..' segment",
        "'Not published': qc/missing.html is not an indexed output of this run",
    ]
    html = client.get(f"/api/v1/runs/{RUN}/reports/1", headers=AUTH)
    assert html.content == files["results/qc/report.html"]
    assert html.headers["content-type"].startswith("text/html")
    assert html.headers["content-security-policy"].startswith("sandbox;")
    assert html.headers["x-content-type-options"] == "nosniff"
    image = client.get(f"/api/v1/runs/{RUN}/reports/2", headers=AUTH)
    assert (image.headers["content-type"], image.content) == ("image/png", runfiles.PNG)
    csv = client.get(f"/api/v1/runs/{RUN}/reports/3", headers=AUTH)
    assert csv.headers["content-disposition"] == 'attachment; filename="counts.csv"'
    assert client.get(f"/api/v1/runs/{RUN}/reports/4", headers=AUTH).status_code == 404

    # an unchanged manifest (same indexed size and ETag) is not read again
    s3_server.client().delete_object(Bucket=s3_bucket, Key="results/tracker.yml")
    assert len(client.get(f"/api/v1/runs/{RUN}/reports", headers=AUTH).json()["items"]) == 3
    s3_server.client().put_object(Bucket=s3_bucket, Key="results/tracker.yml", Body=runfiles.MANIFEST)

    small = make_client(reports=ReportSettings(max_bytes=100))
    refused = small.get(f"/api/v1/runs/{RUN}/reports/1", headers=AUTH)
    assert refused.status_code == 413
    assert "larger than" in refused.json()["detail"]
