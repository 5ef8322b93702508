"""What the browser tests share: the API process they start (`serve`, from
`fixtures.trackerapi`; `reporting_api`, one fed recorded runs through its own trace
receiver), tabs that fail a test on page errors (`open_tab`), viewport sizes, signing
in, and screenshots saved as test artifacts under `test-artifacts/browser/`
(gitignored). Chromium is `fixtures.chromium`'s."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fixtures.nextflow_trace import replay
from fixtures.trackerapi import Api, serve
from playwright.sync_api import Browser, Page

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


def reporting_api(
    database_url: str,
    state_dir: Path,
    runs: Iterable[tuple[str, Mapping[str, str] | None]],
    **settings: str,
) -> Api:
    """`tracker-api` with static tokens (`BROWSER_TOKEN` is `BROWSER_USER`, reporting
    into namespace `lab`) and `settings`, into which each recorded Nextflow run
    (vector name, strings to substitute in its bodies) was reported through its trace
    receiver over HTTP."""
    server = serve(
        database_url,
        state_dir,
        TRACKER_API__AUTH_MODE="token",
        TRACKER_API__TOKENS=json.dumps({BROWSER_TOKEN: BROWSER_USER}),
        TRACKER_TOWER__DEFAULT_NAMESPACE="lab",
        **settings,
    )
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for vector, substitute in runs:
                replay(client, vector, BROWSER_TOKEN, substitute=substitute)
    except BaseException:
        server.process.stop()
        raise
    return server


def open_tab(
    browser: Browser, viewport: dict[str, int], *, tolerated: tuple[str, ...] = (), **options: object
) -> Iterator[Page]:
    """A fresh browser context's tab at `viewport`: script errors, console errors (but
    those starting with one of `tolerated`), CSP violations and missing static files
    fail the test when it ends."""
    context = browser.new_context(viewport=viewport, **options)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    ignored = ("Failed to load resource", *tolerated)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type == "error" and not message.text.startswith(ignored) else None
        ),
    )
    # a page may answer 404 or 401 on purpose; its styles, scripts and icons may not
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )
    yield page
    context.close()
    assert not errors, f"the page logged errors (script errors, CSP violations, missing files): {errors}"
