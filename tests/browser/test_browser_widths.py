"""Every page at phone width (390 px) has no horizontal page overflow (wide tables
scroll inside their own container) and passes the contrast check; each page is
saved as a screenshot at laptop (1280 px) and phone width. At 1366 px the runs list
shows every column in full, with long names, without scrolling."""

from __future__ import annotations

import pytest
from browser_seed import LONG_NAMES
from browserkit import Api, screenshot
from pagechecks import assert_no_horizontal_overflow, assert_readable_contrast
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PAGES = {
    "runs-list": "/runs",
    "runs-list-filtered": "/runs?state=Stalled&state=Disconnected",
    "run-detail-overview": "/runs/rnaseq-full",
    "run-detail-failed": "/runs/broken-run",
    "run-detail-disconnected": "/runs/lost-runner",
    "run-detail-stalled": "/runs/hanging-run",
    "run-detail-deleted-outputs": "/runs/old-run",
    "run-not-found": "/runs/no-such-run",
    "run-ambiguous": "/runs/twin",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_at_laptop_and_phone_width(api: Api, page: Page, phone: Page, name: str) -> None:
    page.goto(api.url + PAGES[name])
    assert_no_horizontal_overflow(page)
    screenshot(page, f"{name}-laptop")
    phone.goto(api.url + PAGES[name])
    assert_no_horizontal_overflow(phone)
    assert_readable_contrast(phone)
    screenshot(phone, f"{name}-phone")


def test_every_tab_fits_a_phone(api: Api, phone: Page) -> None:
    phone.goto(f"{api.url}/runs/foo-run-001")
    for tab in ("Overview", "Config & Params", "Outputs", "Lifecycle jobs", "Run History"):
        phone.get_by_role("tab", name=tab).click()
        expect(phone.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        assert_no_horizontal_overflow(phone)
        screenshot(phone, f"run-detail-{tab.split()[0].lower()}-phone")


def test_wide_tables_scroll_in_their_own_box(api: Api, phone: Page) -> None:
    phone.goto(f"{api.url}/runs/rnaseq-full")
    box = phone.locator("#processes .table-scroll")
    sizes = box.evaluate("(el) => [el.scrollWidth, el.clientWidth, document.documentElement.clientWidth]")
    assert sizes[0] > sizes[1], sizes  # the table scrolls
    assert sizes[1] <= sizes[2], sizes  # the page does not
    box.scroll_into_view_if_needed()
    submitted = phone.locator("#process-table thead th", has_text="Submitted")
    expect(submitted).not_to_be_in_viewport()  # off to the right, inside the box
    box.evaluate("(el) => { el.scrollLeft = el.scrollWidth; }")
    expect(submitted).to_be_in_viewport()
    assert_no_horizontal_overflow(phone)


_CELLS_FIT = """() => {
  const width = document.documentElement.clientWidth;
  const table = document.querySelector('#runs-table');
  const scroller = table.closest('.table-scroll');
  const frame = scroller.getBoundingClientRect();
  const problems = [];
  if (scroller.scrollWidth > scroller.clientWidth) {
    problems.push(`the table scrolls: ${scroller.scrollWidth} > ${scroller.clientWidth}`);
  }
  const cells = [...table.querySelectorAll('thead th, tbody th, tbody td')];
  for (const cell of cells) {
    const box = cell.getBoundingClientRect();
    const what = `${cell.tagName.toLowerCase()} "${cell.textContent.trim().slice(0, 40)}"`;
    const style = getComputedStyle(cell);
    if (!box.width || !box.height || style.visibility !== 'visible' || style.display === 'none') {
      problems.push(`${what} is hidden`);
    }
    if (box.left < 0 || box.right > width + 0.5 || box.left < frame.left - 0.5 || box.right > frame.right + 0.5) {
      problems.push(`${what} is outside the viewport: ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
    for (const el of [cell, ...cell.querySelectorAll('*')]) {
      const inner = el.getBoundingClientRect();
      if (el.clientWidth && el.scrollWidth > el.clientWidth) problems.push(`${what}: its content overflows`);
      if (inner.width && (inner.left < box.left - 0.5 || inner.right > box.right + 0.5)) {
        problems.push(`${what}: ${el.tagName.toLowerCase()} sticks out of the cell`);
      }
    }
  }
  const rows = [...table.querySelectorAll('tbody tr')].map((row) => row.children.length);
  return {problems: problems.slice(0, 12), headings: table.querySelectorAll('thead th').length, rows};
}"""


def test_runs_list_fits_a_1366_px_laptop_with_long_names(long_names_api: Api, hd_laptop: Page) -> None:
    """Every column of the runs list, headings and cells, is fully visible at
    1366 x 768, with long run names, owners, namespaces and clusters: nothing cut,
    hidden or scrolled out of sight."""
    hd_laptop.goto(long_names_api.url + "/runs")
    expect(hd_laptop.locator("#runs-table tbody tr")).to_have_count(len(LONG_NAMES))
    expect(hd_laptop.locator("#runs-table thead th")).to_have_text(
        ["Run", "State", "Owner", "Cluster", "Created", "Duration", "Cost", "Outputs"]
    )
    text = hd_laptop.locator("#runs-table").inner_text()
    for namespace, run_name, owner, cluster, _ in LONG_NAMES:
        for value in (namespace, run_name, owner, cluster or ""):
            assert value in text
    found = hd_laptop.evaluate(_CELLS_FIT)
    assert found["headings"] == 8, found
    assert found["rows"] == [8] * len(LONG_NAMES), found
    assert found["problems"] == [], found["problems"]
    assert_no_horizontal_overflow(hd_laptop)
    screenshot(hd_laptop, "runs-list-long-names-1366")
