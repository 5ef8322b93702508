"""Signing in to the pages in headless Chromium against `tracker-api` with static
tokens: a page redirects to the login form, a wrong token is refused, the right
one lands on the page asked for with an HttpOnly, SameSite=Strict cookie that page
scripts cannot read, and signing out forgets it. The token never shows in a URL."""

from __future__ import annotations

import pytest
from browserkit import BROWSER_TOKEN, BROWSER_USER, Api, screenshot
from pagechecks import assert_no_horizontal_overflow, assert_readable_contrast
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_sign_in_and_out(token_api: Api, page: Page) -> None:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.goto(f"{token_api.url}/runs/rnaseq-full?tab=config")
    page.wait_for_url("**/login?next=**")
    expect(page.locator("h1")).to_have_text("Sign in")
    screenshot(page, "login-laptop")
    page.fill("#token", "not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#login-error")).to_have_text("That token was refused. Check it and try again.")
    assert page.context.cookies() == []
    page.fill("#token", BROWSER_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/runs/rnaseq-full?tab=config")
    expect(page.locator("h1")).to_have_text("rnaseq-full")
    expect(page.get_by_role("tab", name="Config & Params")).to_have_attribute("aria-selected", "true")
    expect(page.locator(".signout")).to_contain_text(f"Signed in as {BROWSER_USER}")
    [cookie] = page.context.cookies()
    assert (cookie["value"], cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
        BROWSER_TOKEN,
        True,
        "Strict",
        "/",
    )
    assert BROWSER_TOKEN not in page.evaluate("document.cookie")  # scripts cannot read it
    page.goto(f"{token_api.url}/runs")
    expect(page.locator("#runs-table")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert page.context.cookies() == []
    page.goto(f"{token_api.url}/runs")
    page.wait_for_url("**/login?next=/runs")
    assert not [url for url in urls if BROWSER_TOKEN in url]


def test_login_form_fits_a_phone(token_api: Api, phone: Page) -> None:
    phone.goto(f"{token_api.url}/login")
    expect(phone.get_by_label("Token")).to_be_visible()
    assert_no_horizontal_overflow(phone)
    assert_readable_contrast(phone)
    screenshot(phone, "login-phone")
