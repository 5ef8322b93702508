"""The Cost & Performance tab and the Cost card in headless Chromium, on the recorded
Nextflow runs reported through the real trace receiver: under a price model of this
module's own (its own API and index, `cost_api`), sad_einstein's cost per process, in
total, its efficiency and its slowest and most wasteful processes, each computed by
hand from the task maps of `tests/fixtures/nextflow/succeeded.json`; the failed run
(hungry_curie) and the resumed one (tiny_turing) have no such tab, and their Cost
card says why. On the shared `reported_api` (default prices) the tab is there too."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from browserkit import REPORTED_RUNS, Api, reporting_api, screenshot, sign_in
from conftest import seeded_index
from pagechecks import assert_no_horizontal_overflow, assert_readable_contrast
from playwright.sync_api import Page, expect

from tracker.domain import compute_cost

pytestmark = pytest.mark.browser

SUCCEEDED, FAILED, RESUMED = REPORTED_RUNS["succeeded"], REPORTED_RUNS["failed"], REPORTED_RUNS["resumed"]
# Every task runs on awsbatch; STAR_ALIGN's (task 6) is reported on an m5.2xlarge. The
# default rate would make any price it reached obvious.
PRICES = {
    "TRACKER_COMPUTE_PRICES__CPU_HOUR": "100",
    "TRACKER_COMPUTE_PRICES__GIB_HOUR": "100",
    "TRACKER_COMPUTE_PRICES__EXECUTORS": json.dumps({"awsbatch": {"cpu_hour": 5.0, "gib_hour": 0.5}}),
    "TRACKER_COMPUTE_PRICES__MACHINE_TYPES": json.dumps({"m5.2xlarge": {"cpu_hour": 2.4, "gib_hour": 0.3}}),
}
MACHINE_TYPE = {
    '"nativeId": "f3e2d1c0-0006", "executor": "awsbatch", "machineType": null': (
        '"nativeId": "f3e2d1c0-0006", "executor": "awsbatch", "machineType": "m5.2xlarge"'
    )
}
# By hand, from the task maps (realtime ms / 3,600,000 x (CPUs x CPU rate + GiB x GiB rate)):
#   FASTQC      task 2: 0.058 h x (2 x 5 + 6 x 0.5) = 0.754 (task 1 is cached: free)
#   TRIMGALORE  task 3 (retried): 0.021889 h x 13 = 0.2846; task 4: 0.085778 h x 13 = 1.1151;
#               task 5: 0.074667 h x (2 x 5 + 12 x 0.5) = 1.1947; together 2.5943
#   STAR_ALIGN  task 6: 0.127444 h x (8 x 2.4 + 32 x 0.3) = 3.6704 (the m5.2xlarge rate)
#   total 7.0187
# Every attempt used 1.873 CPUs (pcpu 187.3) and peaked at 1.5 GiB:
#   CPU used / requested: FASTQC and TRIMGALORE 1.873 / 2 = 94 %, STAR_ALIGN 1.873 / 8 = 23 %,
#   all 1.873 x 0.367778 h / 1.500222 CPU-h = 46 %;
#   memory: FASTQC 1.5 / 6 = 25 %, TRIMGALORE 1.5 x 0.182333 / 1.542 = 18 %, STAR_ALIGN 1.5 / 32 = 5 %,
#   all 0.551667 / 5.968222 GiB-h = 9 %
#   wasted: FASTQC 0.058 x (0.127 x 5 + 4.5 x 0.5) = 0.1673;
#   TRIMGALORE 0.182333 x 0.127 x 5 + (0.107667 x 4.5 + 0.074667 x 10.5) x 0.5 = 0.7500;
#   STAR_ALIGN 0.127444 x (6.127 x 2.4 + 30.5 x 0.3) = 3.0402; all 3.9575
ROWS = {
    # process: (cost, failed or retried, CPU used, memory used, wasted)
    "NFCORE_RNASEQ:RNASEQ:STAR_ALIGN": ("$3.67", "$0.00", "23%", "5%", "$3.04"),
    "NFCORE_RNASEQ:RNASEQ:TRIMGALORE": ("$2.59", "$0.28", "94%", "18%", "$0.75"),
    "NFCORE_RNASEQ:RNASEQ:FASTQC": ("$0.75", "$0.00", "94%", "25%", "$0.17"),
}


@pytest.fixture(scope="session")
def cost_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API (static tokens) with this module's price model, over an empty index into
    which the recorded runs were reported through its trace receiver, STAR_ALIGN's
    task carrying a machine type."""
    url = seeded_index(tmp_path_factory, "cost", lambda engine: None)
    runs = (("succeeded", MACHINE_TYPE), ("failed", None), ("resumed", None))
    server = reporting_api(url, tmp_path_factory.mktemp("cost-api"), runs, **PRICES)
    yield server
    server.process.stop()


def test_the_cost_card_links_to_the_tab_with_the_run_s_cost(cost_api: Api, page: Page) -> None:
    sign_in(page, f"{cost_api.url}/runs/{SUCCEEDED}")
    expect(page.locator("#info-cost-link")).to_have_text("$7.02")
    page.locator("#info-cost-link").click()
    page.wait_for_url("**?tab=cost*")
    tab = page.get_by_role("tab", name="Cost & Performance")
    expect(tab).to_have_attribute("aria-selected", "true")
    panel = page.locator("#panel-cost")
    expect(panel).to_be_visible()
    expect(panel.locator("#cost-total")).to_have_text("$7.02")
    expect(panel.locator("#cost-billed")).to_have_text("5 of 6 (1 cached, free in this run)")
    expect(panel.locator("#cost-unsuccessful")).to_have_text("$0.28 (1 attempt)")
    expect(panel.locator("#cost-cpu-efficiency")).to_have_text("46%")
    expect(panel.locator("#cost-memory-efficiency")).to_have_text("9%")
    expect(panel.locator("#cost-wasted")).to_have_text("$3.96")
    rows = panel.locator("#cost-table tbody tr")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).get_attribute("data-process") for i in range(3)] == list(ROWS)  # most expensive first
    for process, (cost, unsuccessful, cpu, memory, wasted) in ROWS.items():
        row = panel.locator(f'#cost-table tr[data-process="{process}"]')
        expect(row.locator("th")).to_have_text(":".join(process.split(":")[-2:]))
        cells = [row.locator(f'[data-col="{c}"]') for c in ("cost", "unsuccessful", "cpu", "memory", "wasted")]
        for cell, text in zip(cells, (cost, unsuccessful, cpu, memory, wasted), strict=True):
            expect(cell).to_have_text(text)
    expect(
        panel.locator('#cost-table tr[data-process="NFCORE_RNASEQ:RNASEQ:STAR_ALIGN"] [data-col="peak"]')
    ).to_have_text("1.5 GiB / 32.0 GiB")
    expect(panel.locator("#cost-slowest li")).to_have_text(
        [
            "RNASEQ:STAR_ALIGN: longest attempt 7m 38s, mean 7m 38s",
            "RNASEQ:TRIMGALORE: longest attempt 5m 8s, mean 3m 38s",
            "RNASEQ:FASTQC: longest attempt 3m 28s, mean 3m 28s",
        ]
    )
    expect(panel.locator("#cost-wasteful li strong")).to_have_text(
        ["RNASEQ:STAR_ALIGN", "RNASEQ:TRIMGALORE", "RNASEQ:FASTQC"]
    )
    expect(panel.locator("#cost-prices")).to_contain_text("Machine type m5.2xlarge: $2.4 / $0.3")
    screenshot(page, "cost-performance-sad-einstein")


@pytest.mark.parametrize(("run", "reason"), [(FAILED, compute_cost.NOT_SUCCEEDED), (RESUMED, compute_cost.RESUMED)])
def test_failed_and_resumed_runs_have_no_cost_tab(cost_api: Api, page: Page, run: str, reason: str) -> None:
    sign_in(page, f"{cost_api.url}/runs/{run}")
    expect(page.locator("#run-state")).to_be_visible()
    expect(page.get_by_role("tab", name="Task Timeline")).to_be_visible()
    expect(page.get_by_role("tab", name="Cost & Performance")).to_have_count(0)
    page.goto(f"{cost_api.url}/runs/{run}?tab=cost")  # asked for anyway: the default tab
    expect(page.locator("#panel-cost")).to_have_count(0)
    expect(page.locator("#info-cost-link")).to_have_count(0)
    expect(page.locator("#info-cost-reason")).to_have_text(reason)


def test_the_shared_reported_runs_have_the_tab_at_default_prices(reported_api: Api, page: Page) -> None:
    sign_in(page, f"{reported_api.url}/runs/{SUCCEEDED}")
    link = page.locator("#info-cost-link")
    expect(link).to_have_attribute("href", "?tab=cost")
    # the default rate, $0.04048 per CPU-hour and $0.004445 per GiB-hour: 0.0062 + 0.0216 + 0.0594 = $0.09
    expect(link).to_have_text("$0.09")
    link.click()
    expect(page.get_by_role("tab", name="Cost & Performance")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#cost-default-rate")).to_have_text("$0.04048 per CPU-hour, $0.004445 per GiB-hour")
    page.goto(f"{reported_api.url}/runs/{RESUMED}")
    expect(page.get_by_role("tab", name="Cost & Performance")).to_have_count(0)


def test_a_cost_the_runner_reported_is_shown_and_links_to_the_estimate(api: Api, page: Page) -> None:
    page.goto(f"{api.url}/runs/rnaseq-full")  # reported $12.345 with `tracker report --cost`; has task records
    link = page.locator("#info-cost-link")
    expect(link).to_have_text("$12.35")
    link.click()
    expect(page.get_by_role("tab", name="Cost & Performance")).to_have_attribute("aria-selected", "true")
    # its attempts report durations only: 1 CPU each (the default), no memory
    expect(page.locator("#cost-billed")).to_have_text("2 of 4 (1 cached, free in this run)")


def test_the_tab_reads_at_phone_width_with_readable_contrast(cost_api: Api, phone: Page) -> None:
    sign_in(phone, f"{cost_api.url}/runs/{SUCCEEDED}?tab=cost")
    expect(phone.locator("#cost-total")).to_have_text("$7.02")
    assert_no_horizontal_overflow(phone)  # the per-process table scrolls inside its region
    assert_readable_contrast(phone)
    screenshot(phone, "cost-performance-sad-einstein-phone")
