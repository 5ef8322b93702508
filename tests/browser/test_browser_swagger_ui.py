"""The Swagger UI works air-gapped: opened with every request that would leave
loopback blocked and recorded, it renders the API's operations and runs one, with
no request leaving the machine and no CSP violation (the page fixture fails on
console errors)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from browserkit import Api, screenshot
from playwright.sync_api import Page, Route, expect

from tracker.api.paths import SWAGGER_UI

pytestmark = pytest.mark.browser

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
RENDER = 30_000  # ms: a 1.5 MB script to parse on a busy machine, then a request through it


def test_swagger_ui_renders_with_no_request_off_loopback(api: Api, page: Page) -> None:
    local: list[str] = []
    outside: list[str] = []

    def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK:
            local.append(url)
            route.continue_()
        else:
            outside.append(url)
            route.abort("internetdisconnected")

    page.context.route("**/*", only_loopback)
    page.goto(api.url + SWAGGER_UI)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Workflow Tracker", timeout=RENDER)
    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    paths = operations.evaluate_all("(els) => els.map((el) => el.dataset.path)")
    assert {"/api/v1/runs", "/api/v1/runs/{run}", "/api/v1/outputs/lookup", "/api/v1/jobs/{job_id}"} <= set(paths)
    screenshot(page, "swagger-ui-laptop")

    page.locator('.opblock-summary-path[data-path="/api/v1/runs"]').click()  # run one operation from the page
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table tbody .response-col_status")).to_have_text("200", timeout=RENDER)
    expect(page.locator(".live-responses-table tbody .response-col_description")).to_contain_text('"total"')
    screenshot(page, "swagger-ui-executed-laptop")

    assert outside == [], f"requests left loopback: {outside}"
    assert any(url.endswith("/swagger-ui-bundle.js") for url in local), local
    assert any(url.endswith("/openapi.json") for url in local), local
