"""Runs reported through the real trace receiver (`reported_api`), on their Run
Detail pages in headless Chromium, signed in: each recorded run is there under its
run name, with its state, owner and processes as the receiver indexed them."""

from __future__ import annotations

import pytest
from browserkit import BROWSER_USER, REPORTED_RUNS, Api, sign_in
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_reported_runs_have_their_pages(reported_api: Api, page: Page) -> None:
    sign_in(page, f"{reported_api.url}/runs/{REPORTED_RUNS['succeeded']}")
    expect(page.locator("#run-state")).to_contain_text("Succeeded")
    expect(page.locator(".page-title .meta")).to_contain_text(BROWSER_USER)
    expect(page.locator("#processes")).to_contain_text("RNASEQ:FASTQC")
    page.goto(f"{reported_api.url}/runs/{REPORTED_RUNS['failed']}")
    expect(page.get_by_role("tab", name="Error & Resume")).to_have_attribute("aria-selected", "true")
