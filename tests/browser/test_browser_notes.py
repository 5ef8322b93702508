"""Notes on the Run Detail page in headless Chromium against `tracker-api` with
static tokens: a signed-in user adds a note with markup through the Notes tab's
form, sees it as text (never run) after a reload, with its author; an edit through
the note's own form shows as "edited" with the earlier text kept."""

from __future__ import annotations

import pytest
from browser_seed import XSS
from browserkit import BROWSER_TOKEN, BROWSER_USER, Api, screenshot
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

RUN = "rnaseq-full"


def test_a_note_round_trips_with_its_markup_escaped(token_api: Api, page: Page) -> None:
    page.goto(f"{token_api.url}/runs/{RUN}?tab=notes")
    page.wait_for_url("**/login?next=**")
    page.fill("#token", BROWSER_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/runs/{RUN}?tab=notes")
    expect(page.get_by_role("tab", name="Notes")).to_have_attribute("aria-selected", "true")
    text = f"STAR ran out of memory at 32 GiB; retried with 64.\n{XSS}"
    page.get_by_label("Add a note as").fill(text)
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url("**tab=notes#notes-list")
    page.reload()
    note = page.locator("#notes-list .note").first
    expect(note.locator(".note-author")).to_have_text(BROWSER_USER)
    expect(note.locator(".note-body")).to_have_text(text)  # the markup is text
    assert page.locator("#notes-list script, #notes-list img").count() == 0
    assert page.evaluate("window.__xss") is None  # neither the script nor the onerror ran
    expect(note.locator(".note-edited")).to_have_count(0)
    screenshot(page, "run-detail-notes-laptop")

    note_id = (note.get_attribute("id") or "").removeprefix("note-")
    note.locator(".note-edit summary").click()
    editor = note.get_by_label("Edit your note")
    expect(editor).to_have_value(text)
    editor.fill("STAR needs 64 GiB for this genome.")
    note.get_by_role("button", name="Save note").click()
    page.wait_for_url(f"**tab=notes#note-{note_id}")
    note = page.locator(f"#note-{note_id}")
    expect(note.locator(".note-body").first).to_have_text("STAR needs 64 GiB for this genome.")
    expect(note.locator(".note-edited")).to_contain_text("edited")
    note.locator(".note-history summary").click()
    expect(note.locator(".note-history .note-body")).to_have_text(text)
    assert page.evaluate("window.__xss") is None
    screenshot(page, "run-detail-notes-edited-laptop")
