"""Every page at phone width (390 px) has no horizontal page overflow (wide tables
scroll inside their own container) and passes the contrast check; each page is
saved as a screenshot at laptop (1280 px) and phone width."""

from __future__ import annotations

import pytest
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
