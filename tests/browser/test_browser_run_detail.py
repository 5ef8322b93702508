"""The Run Detail page in headless Chromium against the running `tracker-api`: the
cards of a seeded run, the storage-cost tooltip (hover and keyboard), sorting the
process table (in the page, and on the server without JavaScript), tabs, the
Disconnected banner, the Stalled notice, deleted outputs, a failed run opening on
its (escaped) error, the task attempts from the index, and readable error pages."""

from __future__ import annotations

import pytest
from browser_seed import BATCH, FAILED_ID, XSS
from browserkit import Api, screenshot
from index.api.api_seed import TWIN_A_ID, TWIN_B_ID
from pagechecks import assert_readable_contrast, css
from playwright.sync_api import Browser, Locator, Page, expect

pytestmark = pytest.mark.browser

RICH_ORDER = [
    "RNASEQ:FASTQC",
    "ALIGN_STAR:STAR_ALIGN",
    "QUANTIFY:SALMON_QUANT",
    "NFCORE_RNASEQ:MULTIQC",
    "RNASEQ:TRIMGALORE",
]


def rows(page: Page) -> list[str]:
    return page.locator("#process-table tbody th").all_inner_texts()


def heading(page: Page, label: str) -> Locator:
    return page.locator("#process-table thead th", has_text=label)


def test_cards_show_the_seeded_run(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/rnaseq-full")
    expect(page).to_have_title("rnaseq-full · Workflow Tracker")
    expect(page.locator("h1")).to_have_text("rnaseq-full")
    info = page.locator("#workflow-info")
    expect(info.locator("h3")).to_have_text("Workflow Info")
    repo = page.locator("#info-repository a")
    expect(repo).to_have_text("https://github.com/nf-core/rnaseq.git")
    expect(repo).to_have_attribute("href", "https://github.com/nf-core/rnaseq")
    expect(page.locator("#info-revision a")).to_have_attribute("href", "https://github.com/nf-core/rnaseq/tree/3.14.0")
    expect(page.locator("#info-commit a")).to_have_attribute(
        "href", "https://github.com/nf-core/rnaseq/commit/5f2b9c1e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"
    )
    expect(page.locator("#info-workdir")).to_have_text("s3://work/rnaseq-full/")
    expect(page.locator("#cost-runtime h3")).to_have_text("Cost and Runtime")
    expect(page.locator("#info-status")).to_have_text("Succeeded")
    assert css(page, "#info-status .status-dot", "backgroundColor") == "rgb(21, 128, 61)"
    expect(page.locator("#info-cost")).to_have_text("$12.35")
    expect(page.locator("#info-outputs-size")).to_have_text("5.0 GiB")
    expect(page.locator("#info-outputs")).to_contain_text("(4 objects)")
    expect(page.locator("#info-storage-cost")).to_contain_text("$0.24 – $1.26 / year")
    expect(page.locator("#info-started")).to_have_text("2026-05-13T20:41:00Z")
    expect(page.locator("#info-completed")).to_have_text("2026-05-13T22:46:00Z")
    expect(page.locator("#info-duration")).to_have_text("2h 5m")
    expect(page.locator("#info-peak")).to_have_text("48")
    assert rows(page) == RICH_ORDER
    expect(page.locator("#disconnected-banner")).to_have_count(0)
    expect(page.locator("#stalled-notice")).to_have_count(0)
    assert_readable_contrast(page)
    screenshot(page, "run-detail-overview-laptop")


def test_tier_breakdown_on_hover_and_keyboard_focus(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/rnaseq-full")
    tip = page.locator("#tier-breakdown")
    expect(tip).to_be_hidden()
    page.hover("#info-storage-cost")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Frequent $1.26")
    expect(tip).to_contain_text("Infrequent $0.75")
    expect(tip).to_contain_text("Archive Instant $0.24")
    screenshot(page, "run-detail-tier-tooltip-laptop")
    page.mouse.move(0, 0)
    expect(tip).to_be_hidden()
    for _ in range(40):  # the keyboard reaches it in the tab order
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "info-storage-cost":
            break
    assert page.evaluate("document.activeElement.id") == "info-storage-cost"
    expect(tip).to_be_visible()
    assert page.get_attribute("#info-storage-cost", "aria-describedby") == "tier-breakdown"
    page.keyboard.press("Escape")  # dismissible without moving the focus
    expect(tip).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "info-storage-cost"


def test_process_table_sorts_in_the_page(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/rnaseq-full")
    url = page.url
    heading(page, "Failed").locator("a").click()
    expect(heading(page, "Failed")).to_have_attribute("aria-sort", "descending")
    assert rows(page) == [
        "ALIGN_STAR:STAR_ALIGN",
        "RNASEQ:FASTQC",
        "QUANTIFY:SALMON_QUANT",
        "NFCORE_RNASEQ:MULTIQC",
        "RNASEQ:TRIMGALORE",
    ]
    heading(page, "Failed").locator("a").click()
    expect(heading(page, "Failed")).to_have_attribute("aria-sort", "ascending")
    assert rows(page)[-1] == "ALIGN_STAR:STAR_ALIGN"
    heading(page, "Process").locator("a").click()
    assert rows(page) == [
        "ALIGN_STAR:STAR_ALIGN",
        "NFCORE_RNASEQ:MULTIQC",
        "QUANTIFY:SALMON_QUANT",
        "RNASEQ:FASTQC",
        "RNASEQ:TRIMGALORE",
    ]
    expect(heading(page, "Failed")).not_to_have_attribute("aria-sort", "ascending")
    heading(page, "Succeeded").locator("a").click()
    counts = page.locator("#process-table tbody tr td:nth-of-type(1)").all_inner_texts()
    assert counts == ["12", "9", "6", "3", "1"]
    assert page.url == url  # sorted in place, no reload
    screenshot(page, "run-detail-sorted-processes-laptop")


def test_process_table_and_tabs_work_without_javascript(api: Api, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{api.url}/runs/rnaseq-full")
        heading(page, "Succeeded").locator("a").click()
        page.wait_for_url("**psort=-succeeded**")
        assert rows(page) == [
            "RNASEQ:FASTQC",
            "RNASEQ:TRIMGALORE",
            "ALIGN_STAR:STAR_ALIGN",
            "QUANTIFY:SALMON_QUANT",
            "NFCORE_RNASEQ:MULTIQC",
        ]
        expect(heading(page, "Succeeded")).to_have_attribute("aria-sort", "descending")
        page.get_by_role("tab", name="Config & Params").click()
        page.wait_for_url("**tab=config**")
        expect(page.locator("#panel-config")).to_be_visible()
        expect(page.locator("#panel-overview")).to_be_hidden()
    finally:
        context.close()


def test_tabs_switch_in_place_and_by_keyboard(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/rnaseq-full")
    overview = page.get_by_role("tab", name="Overview")
    expect(overview).to_have_attribute("aria-selected", "true")
    page.get_by_role("tab", name="Config & Params").click()
    expect(page.locator("#panel-config")).to_be_visible()
    expect(page.locator("#panel-overview")).to_be_hidden()
    expect(page.get_by_role("tab", name="Config & Params")).to_have_attribute("aria-selected", "true")
    assert "tab=config" in page.url  # a reload keeps the tab
    expect(page.locator("#config-text")).to_contain_text("executor = 'awsbatch'")
    expect(page.locator("#params")).to_contain_text('"note": "<b>not bold</b>"')  # shown, not interpreted
    expect(page.locator("#command-line")).to_have_text(
        "nextflow run nf-core/rnaseq -r 3.14.0 -name rnaseq-full -profile awsbatch"
    )
    screenshot(page, "run-detail-config-laptop")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Outputs")).to_be_focused()
    expect(page.locator("#panel-outputs")).to_be_visible()
    page.keyboard.press("Home")
    expect(overview).to_be_focused()
    expect(page.locator("#panel-overview")).to_be_visible()
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="Lifecycle jobs")).to_have_attribute("aria-selected", "true")


def test_outputs_tab_browses_and_searches(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/rnaseq-full?tab=outputs")
    table = page.locator("#outputs-table")
    expect(table).to_contain_text("star/")
    expect(table).to_contain_text("5.0 GiB")
    table.get_by_role("link", name="star/").click()
    page.wait_for_url("**dir=star**")
    expect(page.locator("#outputs-table tbody th")).to_have_text(["sample1.bam", "sample2.bam"])
    page.fill("#outputs-q", "multiqc html")
    page.click("#panel-outputs button[type=submit]")
    page.wait_for_url("**q=multiqc**")
    expect(page.locator("#outputs-summary")).to_have_text("0 outputs match “multiqc html”.")  # only under star/
    page.get_by_role("link", name="s3://bucket/runs/rnaseq-full/").click()
    page.fill("#outputs-q", "multiqc html")
    page.click("#panel-outputs button[type=submit]")
    expect(page.locator("#outputs-summary")).to_have_text("1 output matches “multiqc html”.")
    expect(page.locator("#outputs-table tbody th")).to_have_text(["multiqc/multiqc_report.html"])
    screenshot(page, "run-detail-outputs-laptop")


def test_lifecycle_jobs_tab(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/foo-run-001")
    page.get_by_role("tab", name="Lifecycle jobs").click()
    table = page.locator("#jobs-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("delete_outputs")
    expect(table).to_contain_text("1 object deleted (500 B)")
    expect(table).to_contain_text("4 objects indexed")
    screenshot(page, "run-detail-jobs-laptop")


def test_disconnected_run_shows_the_warning_banner(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/lost-runner")
    banner = page.locator("#disconnected-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Disconnected")
    expect(banner).to_contain_text("no heartbeat for more than 5m")
    assert banner.get_attribute("role") == "alert"
    expect(page.locator("#info-status")).to_have_text("Disconnected")
    assert css(page, "#info-status .status-dot", "backgroundColor") == "rgb(146, 64, 14)"
    expect(page.locator("#stalled-notice")).to_have_count(0)
    assert_readable_contrast(page)
    screenshot(page, "run-detail-disconnected-laptop")


def test_stalled_run_shows_the_notice(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/hanging-run")
    notice = page.locator("#stalled-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("all tasks have reached terminal states")
    expect(notice).to_contain_text("the runner is probably hanging")
    expect(page.locator("#info-status")).to_have_text("Stalled")
    expect(page.locator("#disconnected-banner")).to_have_count(0)
    assert_readable_contrast(page)
    screenshot(page, "run-detail-stalled-laptop")


def test_deleted_outputs_show_deleted(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/old-run")
    outputs = page.locator("#info-outputs")
    expect(outputs.locator(".deleted")).to_have_text("Deleted")
    expect(page.locator("#info-deleted-by")).to_have_text("by alice at 2026-05-13T19:11:00Z")
    expect(page.locator("#info-storage-cost")).to_have_count(0)
    page.get_by_role("tab", name="Outputs").click()
    expect(page.locator("#outputs-table")).to_contain_text("Deleted")
    screenshot(page, "run-detail-deleted-outputs-laptop")


def test_failed_run_opens_on_its_error(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/broken-run")
    expect(page.get_by_role("tab", name="Error & Resume")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-error")).to_be_visible()
    expect(page.locator("#panel-overview")).to_be_hidden()
    expect(page.locator("#resume-command")).to_have_text("-resume sess-broken -name broken-run")
    error = page.locator("#error-message")
    expect(error).to_contain_text("Error executing process > 'NFCORE:ALIGN (sample1)'")
    expect(error).to_contain_text(XSS)  # the markup is text, not elements
    assert error.locator("script, img").count() == 0
    assert page.evaluate("window.__xss") is None
    assert_readable_contrast(page)
    screenshot(page, "run-detail-failed-laptop")
    page.get_by_role("tab", name="Run History").click()
    history = page.locator("#history-table tbody tr")
    expect(history).to_have_count(3)
    expect(history.first).to_contain_text("Current")
    expect(page.locator("#history-table")).to_contain_text("exit status (137)")
    screenshot(page, "run-detail-history-laptop")


def test_unknown_and_ambiguous_runs_are_readable_pages(api: Api, page: Page) -> None:
    response = page.goto(f"{api.url}/runs/no-such-run")
    assert response is not None
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Run not found")
    expect(page.locator("#error-detail")).to_have_text("no run 'no-such-run' in the index")
    response = page.goto(f"{api.url}/runs/twin")
    assert response is not None
    assert response.status == 409
    expect(page.locator("h1")).to_have_text("Which run?")
    expect(page.locator("#candidates li")).to_have_text(
        [f"twin in namespace lab-a id {TWIN_A_ID}", f"twin in namespace lab-b id {TWIN_B_ID}"]
    )
    screenshot(page, "run-ambiguous-laptop")
    page.get_by_role("link", name="twin in namespace lab-b").click()
    page.wait_for_url(f"**/runs/{TWIN_B_ID}")  # the candidate's own page, by id
    expect(page.locator("h1")).to_have_text("twin")
    expect(page.locator(".meta")).to_contain_text("namespace lab-b")
    expect(page.locator(".run-id code")).to_have_text(TWIN_B_ID)
    page.go_back()
    page.get_by_role("link", name="twin in namespace lab-a").click()
    page.wait_for_url(f"**/runs/{TWIN_A_ID}")
    expect(page.locator(".run-id code")).to_have_text(TWIN_A_ID)


def test_the_list_links_every_run_to_its_page(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs?per_page=100")
    expect(page.locator("#runs-table tbody tr")).to_have_count(BATCH + 9)
    page.get_by_role("link", name="rnaseq-full").click()
    page.wait_for_url("**/runs/rnaseq-full?namespace=genomics")
    expect(page.locator("h1")).to_have_text("rnaseq-full")
    page.get_by_role("link", name="Runs", exact=True).first.click()
    page.wait_for_url("**/runs")


def test_the_overview_lists_the_task_attempts_from_the_index(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/rnaseq-full")
    tasks = page.locator("#tasks")
    expect(tasks.locator("h3")).to_have_text("Tasks")
    expect(tasks.locator(".summary")).to_have_text("4 task attempts.")
    headings = page.locator("#tasks-table thead th").all_inner_texts()
    assert headings == ["Task", "Name", "Process", "Status", "Attempt", "Exit code", "Duration"]
    cells = [row.locator("th, td").all_inner_texts() for row in page.locator("#tasks-table tbody tr").all()]
    assert cells == [
        ["1", "FASTQC (sample_1)", "RNASEQ:FASTQC", "CACHED", "1", "0", "1m 35s"],
        ["2", "STAR_ALIGN (sample_1)", "ALIGN_STAR:STAR_ALIGN", "RETRIED", "1", "137", "1h 2m"],
        ["3", "STAR_ALIGN (sample_1)", "ALIGN_STAR:STAR_ALIGN", "COMPLETED", "2", "0", "1h 23m"],
        ["4", "MULTIQC", "NFCORE_RNASEQ:MULTIQC", "RUNNING", "1", "—", "—"],
    ]
    process = tasks.locator("tbody tr").nth(1).locator("td").nth(1)
    expect(process).to_have_attribute("title", "NFCORE_RNASEQ:RNASEQ:ALIGN_STAR:STAR_ALIGN")
    assert_readable_contrast(page)


def test_a_run_without_tasks_says_so(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/{FAILED_ID}")
    page.get_by_role("tab", name="Overview").click()
    expect(page.locator("#tasks")).to_contain_text("No task has been reported for this run.")
    expect(page.locator("#tasks-table")).to_have_count(0)
