"""The runs list in headless Chromium against the running `tracker-api`: filtering
by state, owner, cluster and the search box through the form, sorting by column,
paging, and state colours identical to the Run Detail page."""

from __future__ import annotations

import pytest
from browser_seed import BATCH, BATCH_CLUSTER, BATCH_OWNER
from browserkit import Api, screenshot
from pagechecks import assert_readable_contrast, css
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

TOTAL = BATCH + 9  # the batch, api_seed's five runs, and four more


def names(page: Page) -> list[str]:
    return page.locator("#runs-table tbody th a").all_inner_texts()


def apply(page: Page) -> None:
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()


def test_list_pages_through_every_run(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs")
    expect(page.locator("h1")).to_have_text("Runs")
    expect(page.locator("#runs-summary")).to_have_text(f"Showing 1–25 of {TOTAL} runs")
    expect(page.locator("#page-position")).to_have_text("Page 1 of 2")
    first = names(page)
    assert len(first) == 25
    assert first[0] == f"batch-{BATCH:03d}"
    assert_readable_contrast(page)
    screenshot(page, "runs-list-laptop")
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url("**page=2")
    expect(page.locator("#runs-summary")).to_have_text(f"Showing 26–{TOTAL} of {TOTAL} runs")
    second = names(page)
    assert len(second) == TOTAL - 25
    assert not set(first) & set(second)
    assert second[-1] == "old-run"
    page.get_by_role("link", name="‹ Previous").click()
    page.wait_for_url("**/runs")
    assert names(page) == first


def test_filter_by_state(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs")
    page.get_by_role("checkbox", name="Failed").check()
    apply(page)
    assert "state=Failed" in page.url
    assert names(page) == ["broken-run"]
    expect(page.get_by_role("checkbox", name="Failed")).to_be_checked()
    page.get_by_role("checkbox", name="Stalled").check()
    apply(page)
    assert names(page) == ["broken-run", "hanging-run", "bar-run-002"]
    expect(page.locator("#runs-table tbody .state")).to_have_text(["Failed", "Stalled", "Stalled"])
    screenshot(page, "runs-list-filtered-laptop")


def test_filter_by_owner_with_paging(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs")
    page.fill("#filter-owner", BATCH_OWNER)
    apply(page)
    expect(page.locator("#runs-summary")).to_have_text(f"Showing 1–25 of {BATCH} runs")
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url("**page=2")
    assert names(page) == ["batch-001"]
    expect(page.locator("#filter-owner")).to_have_value(BATCH_OWNER)  # the filter stays on the next page


def test_filter_by_cluster_and_search(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs")
    page.fill("#filter-cluster", "hpc-west")
    apply(page)
    assert names(page) == ["hanging-run", "lost-runner", "bar-run-002", "old-run"]
    page.fill("#filter-cluster", BATCH_CLUSTER)
    page.fill("#filter-q", "BATCH-01")
    apply(page)
    assert names(page) == [f"batch-{n:03d}" for n in range(19, 9, -1)]
    page.fill("#filter-q", "nothing-like-this")
    apply(page)
    expect(page.locator("#runs-summary")).to_have_text("No runs match these filters.")
    expect(page.locator("#runs-table")).to_have_count(0)
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url("**/runs")
    expect(page.locator("#runs-summary")).to_have_text(f"Showing 1–25 of {TOTAL} runs")


def test_bad_filter_values_are_ignored_with_a_message(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs?state=Exploded&page=zero")
    notes = page.locator("main .banner-notice")
    expect(notes).to_have_count(2)
    expect(notes.first).to_contain_text("Ignored state 'Exploded'")
    expect(page.locator("#runs-summary")).to_have_text(f"Showing 1–25 of {TOTAL} runs")


def test_sort_by_column(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs?owner=alice")
    assert names(page) == ["broken-run", "foo-run-001", "old-run"]
    page.locator("#runs-table thead th", has_text="Cost").locator("a").click()
    page.wait_for_url("**sort=-cost**")
    assert names(page) == ["foo-run-001", "broken-run", "old-run"]  # $3.50, $1.90, no cost last
    expect(page.locator("#runs-table thead th", has_text="Cost")).to_have_attribute("aria-sort", "descending")
    page.locator("#runs-table thead th", has_text="Run").locator("a").click()
    page.wait_for_url("**sort=run_name**")
    assert names(page) == ["broken-run", "foo-run-001", "old-run"]
    page.locator("#runs-table thead th", has_text="Run").locator("a").click()
    page.wait_for_url("**sort=-run_name**")
    assert names(page) == ["old-run", "foo-run-001", "broken-run"]
    expect(page.locator("#filter-owner")).to_have_value("alice")


def test_state_colours_match_the_detail_page(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs?per_page=100")
    colours = {}
    for run, state in (
        ("broken-run", "Failed"),
        ("lost-runner", "Disconnected"),
        ("hanging-run", "Stalled"),
        ("rnaseq-full", "Succeeded"),
        ("bar-run-002", "Stalled"),
    ):
        row = f'#runs-table tbody tr:has(th a:text-is("{run}"))'
        expect(page.locator(f"{row} .state")).to_have_text(state)
        colours[run] = (css(page, f"{row} .status-dot", "backgroundColor"), css(page, f"{row} .state", "color"))
    assert len({colours["broken-run"], colours["lost-runner"], colours["hanging-run"], colours["rnaseq-full"]}) == 4
    assert colours["hanging-run"] == colours["bar-run-002"]
    for run, colour in colours.items():
        page.goto(f"{api.url}/runs/{run}?tab=overview")
        assert (
            css(page, "#info-status .status-dot", "backgroundColor"),
            css(page, "#info-status .state", "color"),
        ) == colour, run
