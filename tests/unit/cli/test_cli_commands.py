"""The CLI's argument checks and the read-API commands' output, offline: click's
CliRunner, and the API answered by an httpx MockTransport with the API's own schemas."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from tracker.api import schemas
from tracker.api.client import ApiClient
from tracker.cli.context import CliContext
from tracker.cli.main import cli

RUN_ID = "550e8400-e29b-41d4-a716-446655440000"
JOB_ID = "7f3e0000-0000-4000-8000-000000000001"
T0 = datetime(2026, 5, 13, 19, 2, 11, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def nowhere(tmp_path: Path) -> str:
    """A kubeconfig that does not exist: any Kubernetes call would fail with exit 1."""
    return str(tmp_path / "no-such-kubeconfig")


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={"TRACKER_API_URL": "", "TRACKER_TOKEN": "", **(env or {})}, catch_exceptions=False
    )


class FakeApi:
    """Answers from `routes` (path -> handler); `requests` records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[str, Handler] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get(request.url.path)
        return handler(request) if handler else httpx.Response(404, json={"detail": "no route"})


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    fake = FakeApi()
    client = ApiClient("http://api.test", http=httpx.Client(transport=httpx.MockTransport(fake)))
    monkeypatch.setattr(CliContext, "api_client", property(lambda self: client))
    return fake


def answer(model: schemas.Schema, status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, content=model.model_dump_json())


def summary(name: str, run_id: str) -> schemas.RunSummary:
    return schemas.RunSummary(
        id=run_id,
        namespace="lab",
        name=name,
        run_name=name,
        owner="alice",
        outputs=schemas.OutputsInfo(
            count=1,
            bytes=1,
            size="1 B",
            annual_cost_low=0,
            annual_cost_high=0,
            annual_cost_by_tier=schemas.TierCosts(frequent=0, infrequent=0, archive_instant=0),
        ),
    )


# -- argument checks: exit 2 before any API call --------------------------------------
@pytest.mark.parametrize(
    ("destination", "message"),
    [
        (
            "s3://new-bucket/archive/foo",
            "tracker: destination must be an s3://bucket/prefix/ URL ending in '/': "
            "got 's3://new-bucket/archive/foo'\n",
        ),
        ("/tmp/archive/", "tracker: '/tmp/archive/' is not an S3 URL: it must start with s3://\n"),
        (
            "s3://new-bucket/a//b/",
            "tracker: destination 's3://new-bucket/a//b/' contains an empty segment ('//'): "
            "write the prefix without it\n",
        ),
    ],
)
@pytest.mark.parametrize("command", [("update-db", "moved"), ("move",)])
def test_a_bad_destination_is_refused_before_any_call(
    nowhere: str, command: tuple[str, ...], destination: str, message: str
) -> None:
    result = invoke("--kubeconfig", nowhere, "outputs", *command, "foo-run-001", destination)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)


def test_a_bad_timeout_is_a_usage_error(nowhere: str) -> None:
    result = invoke("--kubeconfig", nowhere, "outputs", "delete", "foo-run-001", "--wait", "--timeout", "soon")
    assert result.exit_code == 2
    assert "'soon' is not a duration: use e.g. 30s, 5m, 1h or 1h30m" in result.stderr


def test_missing_kubernetes_credentials_are_one_line(nowhere: str) -> None:
    result = invoke("--kubeconfig", nowhere, "-n", "lab", "outputs", "delete", "foo-run-001")
    assert result.exit_code == 1
    assert result.stderr.startswith("tracker: cannot load Kubernetes credentials: ")
    assert result.stderr.count("\n") == 1


# -- info ----------------------------------------------------------------------------
def test_info_prints_name_and_id_of_each_run(api: FakeApi) -> None:
    url = "s3://bucket/runs/foo/sample.bam"
    api.routes["/api/v1/outputs/lookup"] = answer(
        schemas.LookupResult(url=url, items=[summary("foo-run-001", RUN_ID), summary("foo-run-002", JOB_ID)])
    )
    result = invoke("outputs", "info", url)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"foo-run-001  id={RUN_ID}\nfoo-run-002  id={JOB_ID}\n"
    assert api.requests[0].url.params["url"] == url


def test_info_without_a_match_exits_1(api: FakeApi) -> None:
    api.routes["/api/v1/outputs/lookup"] = answer(schemas.LookupResult(url="s3://bucket/x", items=[]))
    result = invoke("outputs", "info", "s3://bucket/x")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "tracker: no run has outputs matching 's3://bucket/x'\n",
    )


@pytest.mark.parametrize("url", ["bucket/runs/foo", "s3://Bad_Bucket/x", "http://bucket/x"])
def test_info_with_a_malformed_url_exits_2_without_asking(api: FakeApi, url: str) -> None:
    result = invoke("outputs", "info", url)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert api.requests == []


def test_info_without_an_api_url_says_how_to_set_one() -> None:
    result = invoke("outputs", "info", "s3://bucket/x")
    assert (result.exit_code, result.stderr) == (
        1,
        "tracker: no read API configured: pass --api-url or set TRACKER_API_URL\n",
    )


def test_an_unreachable_api_is_one_line() -> None:
    result = invoke("--api-url", "http://127.0.0.1:9", "outputs", "info", "s3://bucket/x")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("tracker: cannot reach the read API at http://127.0.0.1:9")


def test_api_errors_are_one_line(api: FakeApi) -> None:
    api.routes["/api/v1/outputs/lookup"] = lambda r: httpx.Response(
        503, json={"detail": "the index database is unavailable"}
    )
    result = invoke("outputs", "info", "s3://bucket/x")
    assert (result.exit_code, result.stderr) == (
        1,
        "tracker: cannot look up 's3://bucket/x': the read API answered 503: the index database is unavailable\n",
    )


# -- ls and search ---------------------------------------------------------------------
def test_ls_lists_directories_then_files(api: FakeApi) -> None:
    api.routes["/api/v1/runs/foo-run-001/outputs"] = answer(
        schemas.RunOutputs(
            run_id=RUN_ID,
            run_name="foo-run-001",
            output_dir="s3://b/runs/foo/",
            dir="",
            limit=1000,
            offset=0,
            directories=[
                schemas.OutputDirectory(name="bams/", path="bams/", count=12, bytes=2048, human_size="2.0 KiB"),
                schemas.OutputDirectory(name="old/", path="old/", count=2, bytes=2, human_size="2 B", deleted=2),
            ],
            files=[
                schemas.OutputFile(
                    url="s3://b/runs/foo/report.html",
                    path="report.html",
                    size=512,
                    human_size="512 B",
                    last_modified=T0,
                    storage_class="STANDARD",
                )
            ],
        )
    )
    result = invoke("outputs", "ls", "foo-run-001")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "NAME          OBJECTS   SIZE      LAST MODIFIED          STORAGE CLASS   STATE\n"
        "bams/         12        2.0 KiB                                          \n"
        "old/          2         2 B                                              Deleted\n"
        "report.html   1         512 B     2026-05-13T19:02:11Z   STANDARD        \n"
    )


def test_ls_of_a_subdirectory_and_of_an_unknown_run(api: FakeApi) -> None:
    api.routes["/api/v1/runs/foo/outputs"] = answer(
        schemas.RunOutputs(
            run_id=RUN_ID, run_name="foo", output_dir="s3://b/runs/foo/", dir="empty/", limit=1000, offset=0
        )
    )
    result = invoke("-n", "lab", "outputs", "ls", "foo", "/empty/")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "No outputs under s3://b/runs/foo/empty/.\n")
    assert dict(api.requests[0].url.params) == {"dir": "empty/", "namespace": "lab", "limit": "1000", "offset": "0"}
    api.routes["/api/v1/runs/nope/outputs"] = lambda r: httpx.Response(
        404, json={"detail": "no run 'nope' in the index"}
    )
    missing = invoke("outputs", "ls", "nope")
    assert (missing.exit_code, missing.stderr) == (
        1,
        "tracker: cannot list the outputs of 'nope': no run 'nope' in the index\n",
    )


def test_search_shows_matches_and_how_many_were_left_out(api: FakeApi) -> None:
    match = schemas.OutputMatch(
        url="s3://b/runs/foo/sample 1.bam",
        size=10,
        human_size="10 B",
        run_id=RUN_ID,
        run_name="foo-run-001",
        deleted=True,
    )
    api.routes["/api/v1/outputs/search"] = answer(schemas.OutputMatchPage(items=[match], total=7, limit=1, offset=0))
    result = invoke("outputs", "search", "sample", "BAM", "--limit", "1")
    assert result.exit_code == 0
    assert result.stdout == (
        "RUN           SIZE   STATE     URL\nfoo-run-001   10 B   Deleted   s3://b/runs/foo/sample 1.bam\n"
    )
    assert result.stderr == "(1 of 7 matches shown: raise --limit or add words)\n"
    assert api.requests[0].url.params["q"] == "sample BAM"


def test_search_says_when_the_total_is_a_lower_bound(api: FakeApi) -> None:
    match = schemas.OutputMatch(url="s3://b/x.bam", size=1, human_size="1 B", run_id=RUN_ID, run_name="foo-run-001")
    page = schemas.OutputMatchPage(items=[match], total=101, total_is_lower_bound=True, limit=1, offset=0)
    api.routes["/api/v1/outputs/search"] = answer(page)
    result = invoke("outputs", "search", "x", "--limit", "1")
    assert result.exit_code == 0
    assert result.stderr == "(1 of at least 101 matches shown: raise --limit or add words)\n"


def test_search_without_matches_exits_1(api: FakeApi) -> None:
    api.routes["/api/v1/outputs/search"] = answer(schemas.OutputMatchPage(items=[], total=0, limit=100, offset=0))
    result = invoke("outputs", "search", "nothing")
    assert (result.exit_code, result.stderr) == (1, "tracker: no outputs match 'nothing'\n")


# -- job-status from the index when Kubernetes does not have the job ---------------------
def test_job_status_falls_back_to_the_index(api: FakeApi, nowhere: str) -> None:
    api.routes[f"/api/v1/jobs/{JOB_ID}"] = answer(
        schemas.Job(
            id=JOB_ID,
            namespace="lab",
            name="d",
            run="foo-run-001",
            run_id=RUN_ID,
            operation="delete_outputs",
            requested_by="alice",
            phase="Succeeded",
            reason="Completed",
            started_at=T0,
            completed_at=datetime(2026, 5, 13, 19, 3, 47, tzinfo=UTC),
            counters=schemas.JobCounters(objects_deleted=1842, bytes_deleted=9876543210),
        )
    )
    result = invoke("--kubeconfig", nowhere, "--api-url", "http://api.test", "outputs", "job-status", JOB_ID)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        f"delete_outputs  succeeded  (id={JOB_ID})\n"
        f"run_id: {RUN_ID}\n"
        "started: 2026-05-13T19:02:11Z\n"
        "completed: 2026-05-13T19:03:47Z\n"
        "objects deleted: 1842\n"
        "bytes deleted: 9876543210\n"
    )


def test_job_status_of_an_unknown_job_exits_1(api: FakeApi, nowhere: str) -> None:
    result = invoke("--kubeconfig", nowhere, "--api-url", "http://api.test", "outputs", "job-status", "nope")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "tracker: job 'nope' not found\n")


def test_job_status_without_kubernetes_or_api_reports_the_kubernetes_error(nowhere: str) -> None:
    result = invoke("--kubeconfig", nowhere, "outputs", "job-status", JOB_ID)
    assert result.exit_code == 1
    assert result.stderr.startswith("tracker: cannot load Kubernetes credentials")


# -- completion ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "_TRACKER_COMPLETE=bash_complete"), ("zsh", "#compdef tracker"), ("fish", "complete --no-files")],
)
def test_completion_scripts(shell: str, marker: str) -> None:
    result = invoke("completion", shell)
    assert result.exit_code == 0
    assert marker in result.stdout


def test_completion_completes_commands_and_resources() -> None:
    result = CliRunner().invoke(
        cli,
        [],
        prog_name="tracker",
        env={"_TRACKER_COMPLETE": "bash_complete", "COMP_WORDS": "tracker get o", "COMP_CWORD": "2"},
    )
    assert result.stdout.split() == ["plain,olj", "plain,outputlifecyclejob", "plain,outputlifecyclejobs"]
