"""What the browser tests share: the API process they start (`serve`, from
`fixtures.trackerapi`), viewport sizes, and screenshots saved as test artifacts
under `test-artifacts/browser/` (gitignored). Chromium is `fixtures.chromium`'s."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from fixtures.trackerapi import Api, serve  # noqa: F401 - the browser tests import them from here
from playwright.sync_api import Page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
LAPTOP = {"width": 1280, "height": 800}
HD_LAPTOP = {"width": 1366, "height": 768}  # the most common laptop screen
PHONE = {"width": 390, "height": 844}
BROWSER_TOKEN, BROWSER_USER = "browser-test-token", "erin"
# the recorded Nextflow runs `reported_api` ingests through the trace receiver, by vector: run name
REPORTED_RUNS = {"succeeded": "sad_einstein", "failed": "hungry_curie", "resumed": "tiny_turing"}


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, url: str, token: str = BROWSER_TOKEN) -> None:
    """Open `url` (a page of an API with authentication on) and sign in with `token`
    through the login form it redirects to; back on `url` afterwards."""
    page.goto(url)
    page.wait_for_url("**/login?next=**")
    page.fill("#token", token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{urlsplit(url).path}*")
