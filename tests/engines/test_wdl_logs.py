"""The WDL engines' logs on the Logs tab: `tracker watch sprocket --logs-to` (and the
miniwdl plugin's `MINIWDL__TRACKER__LOGS_TO`) upload a real run's log (`output.log`,
`workflow.log`) and each finished attempt's stdout, stderr and command to the run's
work dir on the local S3 server (moto), and a `tracker-api` reading that S3 server
shows them: the runner log's end, a failed attempt's stderr, through the API and on
the Logs tab in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browserkit import screenshot, sign_in  # tests/browser, on the path from conftest
from enginekit import AUTH, TOKEN, miniwdl_run, sprocket_run, sprocket_runs, tier_api, tracked_run, tracked_tasks, watch
from fixtures.trackerapi import Api
from playwright.sync_api import Page, expect

from localcluster.s3server import S3Server

pytestmark = pytest.mark.engines


def s3_env(s3: S3Server) -> dict[str, str]:
    return {
        "TRACKER_S3__ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_DEFAULT_REGION": s3.region,
    }


def log_tail(api: Api, path: str) -> dict[str, Any]:
    """A log tail through the read API (`path` below `/api/v1`); it must answer 200."""
    answer = httpx.get(f"{api.url}/api/v1{path}", headers=AUTH, timeout=30)
    assert answer.status_code == 200, answer.text
    tail: dict[str, Any] = answer.json()
    return tail


@pytest.fixture(scope="module")
def logs_api(s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The tier's kind of API (static token, namespace `wdl`), reading the S3 server."""
    server = tier_api(tmp_path_factory.mktemp("logs-api"), **s3_env(s3_server))
    yield server
    server.process.stop()


@pytest.fixture(scope="module")
def failed_run(
    logs_api: Api, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, object], Path, str]:
    """A failing Sprocket run watched with `--logs-to`: the tracker's view of it, its
    run directory, and the logs prefix."""
    workdir = tmp_path_factory.mktemp("sprocket-logs")
    out = workdir / "out"
    done = sprocket_run("failing.wdl", workdir, out)
    assert done.returncode != 0
    bucket = "sprocket-logs"
    s3_server.client().create_bucket(Bucket=bucket)
    watched = watch(out, f"{logs_api.url}/tower", "--once", "--logs-to", f"s3://{bucket}/work/", **s3_env(s3_server))
    assert watched.returncode == 0, watched.stderr
    [(name, _)] = sprocket_runs(out).items()
    run = tracked_run(logs_api.url, name)
    [run_dir] = (out / "runs" / "failing").glob("2*")
    return run, run_dir, f"s3://{bucket}/work/{name}/"


def test_the_run_and_attempt_logs_are_in_the_work_dir(
    logs_api: Api, s3_server: S3Server, failed_run: tuple[dict[str, object], Path, str]
) -> None:
    run, run_dir, prefix = failed_run
    assert run["workDir"] == prefix
    bucket, root = prefix.removeprefix("s3://").split("/", 1)
    keys = {o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {
        f"{root}output.log",
        *(f"{root}calls/{call}/attempts/0/{name}" for call in ("prepare", "break_down")
          for name in (".command.out", ".command.err", ".command.sh")),
    }  # fmt: skip

    log = log_tail(logs_api, f"/runs/{run['id']}/log")
    assert log["url"] == f"{prefix}output.log"
    assert log["text"] == (run_dir / "output.log").read_text()

    tasks = {t["process"]: t for t in tracked_tasks(logs_api.url, str(run["id"]))}
    assert tasks["break_down"]["workDir"] == f"{prefix}calls/break_down/attempts/0/"
    stderr = log_tail(logs_api, f"/runs/{run['id']}/tasks/{tasks['break_down']['taskId']}/log/stderr")
    assert stderr["text"] == "cannot go on after ready\n"


def test_the_logs_tab_shows_them(logs_api: Api, failed_run: tuple[dict[str, object], Path, str], page: Page) -> None:
    run, run_dir, _ = failed_run
    sign_in(page, f"{logs_api.url}/runs/{run['id']}?tab=logs", TOKEN)
    panel = page.locator("#panel-logs")
    last_line = (run_dir / "output.log").read_text().strip().splitlines()[-1]
    expect(panel).to_contain_text(last_line[-60:])
    row = panel.locator("tr", has_text="break_down")
    row.get_by_role("link", name="stderr").click()
    expect(page.locator("body")).to_contain_text("cannot go on after ready")
    screenshot(page, "engines-sprocket-task-stderr")


@pytest.mark.parametrize("option", ["--logs-to", "--publish-to"])
def test_a_prefix_that_is_not_s3_is_one_line_and_exit_2(logs_api: Api, tmp_path: Path, option: str) -> None:
    done = watch(tmp_path, f"{logs_api.url}/tower", "--once", option, "/var/log/")
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert option in done.stderr


def test_a_miniwdl_run_publishes_its_logs_too(logs_api: Api, s3_server: S3Server, tmp_path: Path) -> None:
    bucket = "miniwdl-logs"
    s3_server.client().create_bucket(Bucket=bucket)
    done = miniwdl_run(
        "failing.wdl",
        tmp_path,
        f"{logs_api.url}/tower",
        MINIWDL__TRACKER__LOGS_TO=f"s3://{bucket}/work/",
        **s3_env(s3_server),
    )
    assert done.returncode != 0
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir() and p.name[0].isdigit()]
    run = tracked_run(logs_api.url, run_dir.name)
    prefix = f"s3://{bucket}/work/{run_dir.name}/"
    assert run["workDir"] == prefix
    tasks = {t["process"]: t for t in tracked_tasks(logs_api.url, str(run["id"]))}
    assert tasks["break_down"]["workDir"] == f"{prefix}call-break_down/"
    stderr = log_tail(logs_api, f"/runs/{run['id']}/tasks/{tasks['break_down']['taskId']}/log/stderr")
    assert stderr["text"] == "cannot go on after ready\n"
    log = log_tail(logs_api, f"/runs/{run['id']}/log")
    assert log["url"] == f"{prefix}workflow.log"
    assert "break_down" in log["text"]
