"""The Task Timeline tab in headless Chromium against the running `tracker-api`, on
a run of about 2,000 task attempts: every executed attempt drawn as one bar with its
title, grouped by process, cached ones counted apart, the panel scrollable, zoom
links, and the page still answering a click on another tab within a deadline."""

from __future__ import annotations

import time

import pytest
from browser_seed import TIMELINE_CACHED, TIMELINE_EXECUTED, TIMELINE_PROCESSES
from browserkit import Api, screenshot
from pagechecks import assert_no_horizontal_overflow, assert_readable_contrast
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
RESPONSIVE_SECONDS = 2.0


def test_timeline_draws_every_attempt_of_a_large_run(timeline_api: Api, page: Page) -> None:
    page.goto(f"{timeline_api.url}/runs/sarek-cohort")
    page.get_by_role("tab", name="Task Timeline").click()
    page.wait_for_url("**/runs/sarek-cohort?tab=timeline")  # drawn only on its own tab: loaded
    panel = page.locator("#panel-timeline")
    expect(panel).to_be_visible()
    svg = page.locator("#timeline-svg")
    expect(svg.locator("rect.tl-run")).to_have_count(TIMELINE_EXECUTED)
    expect(svg.locator("g.tl-bar > title")).to_have_count(TIMELINE_EXECUTED)
    expect(svg.locator("g.tl-lane")).to_have_count(len(TIMELINE_PROCESSES))
    expect(svg.locator("g.tl-bar.tl-running.tl-open")).to_have_count(30)
    expect(page.locator("#timeline-summary")).to_contain_text(f"{TIMELINE_EXECUTED} attempts drawn in 8 processes")
    expect(page.locator("#timeline-summary")).to_contain_text(f"{TIMELINE_CACHED} cached")
    expect(svg.locator("g.tl-lane").first.locator("text.tl-label")).to_contain_text(
        f"SAREK:FASTP · {TIMELINE_CACHED} cached"
    )
    inside = page.evaluate(
        """() => {
            const svg = document.getElementById('timeline-svg');
            const width = svg.width.baseVal.value, height = svg.height.baseVal.value;
            return [...svg.querySelectorAll('rect')].every(r => {
                const x = r.x.baseVal.value, y = r.y.baseVal.value;
                return x >= 0 && y >= 0 && x + r.width.baseVal.value <= width && y + r.height.baseVal.value <= height;
            });
        }"""
    )
    assert inside, "a bar lies outside the drawing"
    scroll = page.locator(".timeline-scroll")
    assert scroll.evaluate("e => e.scrollHeight > e.clientHeight")  # thousands of rows: the panel scrolls
    assert_readable_contrast(page)
    screenshot(page, "run-detail-timeline-2000-laptop")

    started = time.monotonic()
    page.get_by_role("tab", name="Overview").click()
    expect(page.locator("#panel-overview")).to_be_visible(timeout=RESPONSIVE_SECONDS * 1000)
    expect(panel).to_be_hidden(timeout=RESPONSIVE_SECONDS * 1000)
    assert time.monotonic() - started < RESPONSIVE_SECONDS


def test_timeline_zooms_without_javascript_build(timeline_api: Api, page: Page) -> None:
    page.goto(f"{timeline_api.url}/runs/sarek-cohort?tab=timeline")
    narrow = page.locator("#timeline-svg").evaluate("e => e.width.baseVal.value")
    page.locator(".timeline-zoom").get_by_role("link", name="4\N{MULTIPLICATION SIGN}").click()
    page.wait_for_url("**zoom=4**")
    expect(page.locator("#panel-timeline")).to_be_visible()
    wide = page.locator("#timeline-svg").evaluate("e => e.width.baseVal.value")
    assert wide > 3 * narrow
    expect(page.locator("#timeline-svg rect.tl-run")).to_have_count(TIMELINE_EXECUTED)
    screenshot(page, "run-detail-timeline-zoom-4-laptop")


def test_timeline_scrolls_in_its_own_box_on_a_phone(timeline_api: Api, phone: Page) -> None:
    phone.goto(f"{timeline_api.url}/runs/sarek-cohort?tab=timeline")
    box = phone.locator(".timeline-scroll")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # the drawing scrolls sideways
    assert_no_horizontal_overflow(phone)  # the page does not
    screenshot(phone, "run-detail-timeline-phone")
