"""The tasks view and Process Detail in headless Chromium, signed in, on the recorded
Nextflow run `sad_einstein` reported through the real trace receiver (`reported_api`:
six attempts from eleven task records, one cached, one failed and retried): the
Tasks button, filters by process and status, search by hash, sorting by a column,
the process links keeping the run's namespace, the known numbers of RNASEQ:FASTQC;
and pages through the 2,100 attempts of a larger run (`timeline_api`). Pages fit a
phone; screenshots are saved."""

from __future__ import annotations

import re

import pytest
from browserkit import REPORTED_RUNS, Api, screenshot, sign_in
from pagechecks import assert_no_horizontal_overflow, assert_readable_contrast
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
RUN = REPORTED_RUNS["succeeded"]
TRIMGALORE = "NFCORE_RNASEQ:RNASEQ:TRIMGALORE"


def task_ids(page: Page, table: str = "#task-table") -> list[int]:
    return [int(n) for n in page.locator(f"{table} tbody tr").evaluate_all("rows => rows.map(r => r.dataset.taskId)")]


def test_tasks_button_opens_the_tasks_view(reported_api: Api, page: Page) -> None:
    sign_in(page, f"{reported_api.url}/runs/{RUN}?namespace=lab")
    button = page.locator("#tasks-button")
    expect(button).to_have_text(re.compile(r"Tasks\s+6"))
    button.click()
    page.wait_for_url(f"**/runs/{RUN}/tasks?namespace=lab")
    expect(page.locator("h1")).to_have_text(f"Tasks of {RUN}")
    expect(page.locator("#tasks-summary")).to_contain_text("Showing 1–6 of 6 task attempts")
    assert task_ids(page) == [1, 2, 3, 4, 5, 6]
    expect(page.locator("#task-table caption")).to_have_text(re.compile("Task attempts of this run"))
    expect(page.locator('#task-table tr[data-task-id="1"] .marker')).to_have_text("from cache")
    expect(page.locator('#task-table tr[data-task-id="5"] .marker')).to_have_text("retry")
    expect(page.locator('#task-table tr[data-task-id="3"]')).to_contain_text("RETRIED")
    assert_readable_contrast(page)
    screenshot(page, "tasks-view-laptop")


def test_filter_by_process_and_status_shows_exactly_those_rows(reported_api: Api, page: Page) -> None:
    sign_in(page, f"{reported_api.url}/runs/{RUN}/tasks")
    page.get_by_label("Process").select_option(label="RNASEQ:TRIMGALORE")
    page.get_by_role("checkbox", name="COMPLETED").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**status=COMPLETED**")
    assert task_ids(page) == [4, 5]
    statuses = page.locator("#task-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.status)")
    assert statuses == ["COMPLETED", "COMPLETED"]
    expect(page.locator("#tasks-summary")).to_contain_text("of 2 task attempts")
    page.get_by_role("checkbox", name="RETRIED").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**status=RETRIED**")
    assert task_ids(page) == [3, 4, 5]
    expect(page.get_by_label("Process")).to_have_value(TRIMGALORE)
    screenshot(page, "tasks-view-filtered-laptop")


def test_search_by_hash_and_sort_by_a_column(reported_api: Api, page: Page) -> None:
    sign_in(page, f"{reported_api.url}/runs/{RUN}/tasks")
    page.get_by_label("Search name, tag or hash").fill("D2/C3E4")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**q=D2**")
    assert task_ids(page) == [5]
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(f"**/runs/{RUN}/tasks")
    assert len(task_ids(page)) == 6
    heading = page.locator("#task-table thead th", has_text="Duration")
    heading.get_by_role("link").click()
    page.wait_for_url("**sort=-duration_ms**")
    expect(page.locator("#task-table thead th", has_text="Duration")).to_have_attribute("aria-sort", "descending")
    assert task_ids(page) == [6, 4, 5, 2, 1, 3]  # 8m, 5m 50s, 4m 59s, 4m, 3m (cached), 1m 50s
    page.locator("#task-table thead th", has_text="Duration").get_by_role("link").click()
    page.wait_for_url("**sort=duration_ms**")
    expect(page.locator("#task-table thead th", has_text="Duration")).to_have_attribute("aria-sort", "ascending")
    assert task_ids(page) == [3, 1, 2, 5, 4, 6]


def test_process_detail_shows_the_known_values_of_fastqc(reported_api: Api, page: Page) -> None:
    sign_in(page, f"{reported_api.url}/runs/{RUN}?namespace=lab")
    page.locator("#process-table").get_by_role("link", name="RNASEQ:FASTQC").click()
    page.wait_for_url(f"**/runs/{RUN}/processes/NFCORE_RNASEQ%3ARNASEQ%3AFASTQC?namespace=lab")
    expect(page.locator("h1")).to_have_text("RNASEQ:FASTQC")
    expect(page.locator("#process-name")).to_have_text("NFCORE_RNASEQ:RNASEQ:FASTQC")
    known = {
        "stat-tasks": "2",
        "stat-attempts": "2",
        "stat-by-status": "1 completed, 1 cached",
        "stat-cached": "1",
        "stat-retried": "0",
        "stat-duration": "4m 0s / 4m 0s / 4m 0s",  # the executed attempt only: the cached one ran before
        "stat-realtime": "3m 28s / 3m 28s / 3m 28s",
        "stat-cpus": "2",
        "stat-pcpu": "187.3% / 187.3%",
        "stat-cpu-share": "94%",
        "stat-memory": "6.0 GiB",
        "stat-rss": "1.5 GiB / 1.5 GiB",
        "stat-memory-share": "25%",
        "stat-read": "4.0 GiB",
        "stat-write": "1.0 GiB",
    }
    for element, value in known.items():
        expect(page.locator(f"#{element}")).to_have_text(value)
    assert task_ids(page, "#attempts-table") == [1, 2]
    expect(page.locator('#attempts-table tr[data-task-id="1"] .marker')).to_have_text("from cache")
    screenshot(page, "process-detail-fastqc-laptop")
    page.locator("#all-tasks-link").click()
    page.wait_for_url(f"**/runs/{RUN}/tasks?namespace=lab&process=NFCORE_RNASEQ%3ARNASEQ%3AFASTQC")
    assert task_ids(page) == [1, 2]
    page.locator('#task-table tr[data-task-id="1"]').get_by_role("link", name="RNASEQ:FASTQC").click()
    page.wait_for_url("**/processes/NFCORE_RNASEQ%3ARNASEQ%3AFASTQC?namespace=lab")
    page.get_by_role("link", name=RUN).first.click()
    page.wait_for_url(f"**/runs/{RUN}?namespace=lab")


def test_process_detail_shows_retries(reported_api: Api, page: Page) -> None:
    sign_in(page, f"{reported_api.url}/runs/{RUN}/processes/{TRIMGALORE}")
    expect(page.locator("#stat-attempts")).to_have_text("3")
    expect(page.locator("#stat-retried")).to_have_text("1")
    expect(page.locator("#stat-duration")).to_have_text("1m 50s / 4m 59s / 5m 50s")
    expect(page.locator("#stat-memory")).to_have_text("6.0 GiB – 12.0 GiB")
    expect(page.locator('#attempts-table tr[data-task-id="3"]')).to_contain_text("RETRIED")
    expect(page.locator('#attempts-table tr[data-task-id="5"] .marker')).to_have_text("retry")


def test_an_unknown_process_is_the_404_page(reported_api: Api, page: Page) -> None:
    sign_in(page, f"{reported_api.url}/runs/{RUN}/processes/NO:SUCH")
    expect(page.locator("h1")).to_have_text("Process not found")
    expect(page.locator("#error-detail")).to_contain_text("has no process 'NO:SUCH'")


def test_pages_through_a_large_run(timeline_api: Api, page: Page) -> None:
    page.goto(f"{timeline_api.url}/runs/sarek-cohort/tasks")
    expect(page.locator("#tasks-summary")).to_contain_text("Showing 1–50 of 2100 task attempts")
    expect(page.locator("#page-position")).to_have_text("Page 1 of 42")
    assert task_ids(page) == list(range(1, 51))
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url("**page=2")
    assert task_ids(page) == list(range(51, 101))
    expect(page.locator("#page-position")).to_have_text("Page 2 of 42")
    page.get_by_role("checkbox", name="CACHED").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**status=CACHED**")
    expect(page.locator("#tasks-summary")).to_contain_text("Showing 1–50 of 100 task attempts")
    assert task_ids(page) == list(range(2001, 2051))
    page.get_by_role("link", name="Next ›").click()
    assert task_ids(page) == list(range(2051, 2101))
    expect(page.get_by_role("link", name="Next ›")).to_have_count(0)
    screenshot(page, "tasks-view-large-run-laptop")


def test_tasks_view_and_process_detail_fit_a_phone(reported_api: Api, phone: Page) -> None:
    for path, name in (
        (f"/runs/{RUN}/tasks", "tasks-view-phone"),
        (f"/runs/{RUN}/processes/{TRIMGALORE}", "process-detail-phone"),
    ):
        if name == "tasks-view-phone":
            sign_in(phone, reported_api.url + path)
        else:
            phone.goto(reported_api.url + path)
        assert_no_horizontal_overflow(phone)
        assert_readable_contrast(phone)
        screenshot(phone, name)
