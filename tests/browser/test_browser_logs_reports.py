"""The Logs and Reports tabs in headless Chromium against `tracker-api` reading the
local S3 server: the recorded `succeeded` Nextflow run reported through the real
trace receiver with its work and output dirs in a test bucket, its runner log
(larger than the tail shown), task streams and a tracker.yml with an HTML report
(whose script tries to reach the page), an image and a CSV."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from browserkit import LAPTOP, PHONE, Api, open_tab, reporting_api, screenshot, sign_in
from conftest import seeded_index
from fixtures import runfiles
from pagechecks import assert_no_horizontal_overflow
from playwright.sync_api import Browser, Page, expect

from localcluster.s3server import S3Server
from tracker.store.engine import make_engine

pytestmark = pytest.mark.browser
RUN = runfiles.RUN_NAME
LOG_LINES = 40_000  # 2.4 MiB: more than the tail shown
TAIL = 256 * 1024  # shown (the default, 1 MiB, is measured against S3 in tests/cluster; a lighter page here)
# What the sandbox itself reports when the report's script is refused (not a page error).
SANDBOX_REFUSALS = ("Blocked script execution", "Refused to execute inline script")


@pytest.fixture(scope="module")
def files_api(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Iterator[tuple[Api, str]]:
    """The API (static tokens) reading S3 with credentials from its environment, over
    an index filled by the trace receiver, the run's report files indexed as outputs."""
    bucket = f"files-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    client.create_bucket(Bucket=bucket)
    url = seeded_index(tmp_path_factory, "files", lambda engine: None)
    substitute = runfiles.substitutions(bucket, log_file=f"s3://{bucket}/{runfiles.LOG_KEY}")
    server = reporting_api(
        url,
        tmp_path_factory.mktemp("files-api"),
        [("succeeded", substitute)],
        TRACKER_S3__ENDPOINT_URL=s3_server.endpoint_url,
        TRACKER_LOGS__TAIL_BYTES=str(TAIL),
        AWS_ACCESS_KEY_ID=s3_server.access_key,
        AWS_SECRET_ACCESS_KEY=s3_server.secret_key,
    )
    try:
        files = runfiles.upload(client, bucket, log_lines=LOG_LINES)
        engine = make_engine(url)
        try:
            runfiles.index_outputs(engine, bucket, files)
        finally:
            engine.dispose()
        yield server, bucket
    finally:
        server.process.stop()


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:
    yield from open_tab(browser, LAPTOP, tolerated=SANDBOX_REFUSALS)


@pytest.fixture
def phone_tab(browser: Browser) -> Iterator[Page]:
    yield from open_tab(browser, PHONE, tolerated=SANDBOX_REFUSALS, is_mobile=True, has_touch=True)


def test_the_logs_tab_shows_the_end_of_the_runner_log_and_task_streams(files_api: tuple[Api, str], tab: Page) -> None:
    api, bucket = files_api
    sign_in(tab, f"{api.url}/runs/{RUN}?tab=logs")
    expect(tab.get_by_role("tab", name="Logs")).to_have_attribute("aria-selected", "true")
    expect(tab.locator("#runner-log-url")).to_have_text(f"s3://{bucket}/{runfiles.LOG_KEY}")
    expect(tab.locator("#runner-log-summary")).to_contain_text("The last 256.0 KiB of 2.4 MiB")
    log = tab.locator("#runner-log")
    expect(log).to_contain_text("00039999 DEBUG nextflow.Session - a log line padded to 64 bytes")
    expect(log).not_to_contain_text("00000000 DEBUG")  # the start of the log is not on the page
    at_end = "() => { const box = document.getElementById('runner-log'); return box.scrollHeight > box.clientHeight && box.scrollTop + box.clientHeight >= box.scrollHeight - 2; }"
    assert tab.evaluate(at_end)  # the box opens on the log's last lines
    screenshot(tab, "run-detail-logs-laptop")

    href = tab.locator("#runner-log-download").get_attribute("href") or ""
    download = tab.request.get(api.url + href)  # with the page's cookie
    assert download.status == 200
    assert download.headers["content-disposition"] == 'attachment; filename="nextflow.log"'
    assert download.headers["x-content-type-options"] == "nosniff"
    assert len(download.body()) == LOG_LINES * runfiles.LINE

    row = tab.locator('#task-logs-table tr[data-task="2"]')
    row.get_by_role("link", name="stdout").click()
    expect(tab.locator("#task-log")).to_have_text("fastqc stdout: analysis complete for sample_2\n")
    screenshot(tab, "task-log-stdout-laptop")
    tab.get_by_role("link", name="stderr").click()
    expect(tab.locator("#task-log-problem")).to_contain_text("No log here yet:")
    expect(tab.locator("#task-log-problem")).to_contain_text(".command.err does not exist")


def test_the_reports_tab_frames_html_that_cannot_script_the_page(files_api: tuple[Api, str], tab: Page) -> None:
    api, _ = files_api
    sign_in(tab, f"{api.url}/runs/{RUN}?tab=reports")
    expect(tab.get_by_role("tab", name="Reports")).to_have_attribute("aria-selected", "true")
    problems = tab.locator("#report-problems")
    expect(problems).to_contain_text("qc/missing.html is not an indexed output of this run")
    expect(problems).to_contain_text("'..' segment")

    frame_element = tab.locator("#report-1 iframe")
    assert frame_element.get_attribute("sandbox") == ""  # no allow-scripts, no allow-same-origin
    frame = tab.frame_locator("#report-1 iframe")
    expect(frame.locator("#report-heading")).to_have_text("QC report")
    expect(frame.locator("#report-status")).to_have_text("script did not run")
    assert tab.evaluate("window.pwned") is None
    assert tab.evaluate("document.body.getAttribute('data-pwned')") is None

    image = tab.locator("#report-2 img")
    expect(image).to_have_attribute("alt", "PCA plot")
    tab.wait_for_function("document.querySelector('#report-2 img').naturalWidth === 1")
    csv = tab.locator("#report-3 .report-download")
    expect(csv).to_have_text("Download counts.csv")
    answer = tab.request.get(api.url + (csv.get_attribute("href") or ""))
    assert answer.body() == runfiles.CSV
    assert answer.headers["content-disposition"].startswith("attachment;")
    screenshot(tab, "run-detail-reports-laptop")

    # opened directly, in the page's own origin, the report still runs no script
    tab.goto(api.url + (frame_element.get_attribute("src") or ""))
    expect(tab.locator("#report-status")).to_have_text("script did not run")
    # an opaque origin: not the page's, so no cookie, no storage, no same-origin requests
    reading = "() => { try { return document.cookie; } catch (error) { return error.name; } }"
    assert tab.evaluate(reading) == "SecurityError"


@pytest.mark.parametrize("name", ["logs", "reports"])
def test_the_tabs_fit_a_phone(files_api: tuple[Api, str], phone_tab: Page, name: str) -> None:
    api, _ = files_api
    sign_in(phone_tab, f"{api.url}/runs/{RUN}?tab={name}")
    expect(phone_tab.get_by_role("tab", name=name.title())).to_have_attribute("aria-selected", "true")
    assert_no_horizontal_overflow(phone_tab)
    screenshot(phone_tab, f"run-detail-{name}-phone")


def test_choosing_the_logs_tab_loads_it(files_api: tuple[Api, str], tab: Page) -> None:
    api, _ = files_api
    sign_in(tab, f"{api.url}/runs/{RUN}")
    expect(tab.locator("#runner-log")).to_have_count(0)  # a lazy tab: not read for the Overview
    tab.get_by_role("tab", name="Logs").click()
    tab.wait_for_url("**tab=logs**")
    expect(tab.locator("#runner-log")).to_contain_text("00039999 DEBUG")
