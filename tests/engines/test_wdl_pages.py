"""The Run Detail page of runs the real WDL engines reported, in headless Chromium
(`fixtures.chromium`) against the tier's `tracker-api`: a Sprocket scatter followed by
`tracker watch sprocket`, a failing Sprocket run, and a miniwdl run through its
plugin. Each page shows the run's state, processes and task attempts, its inputs as
parameters, every attempt on the Task Timeline (and in the tasks view and on its
process's page), the estimated compute cost of a succeeded run from its attempts'
requested CPUs and wall times, and takes a note."""

from __future__ import annotations

import re

import httpx
import pytest
from browserkit import screenshot, sign_in  # tests/browser, on the path from conftest
from enginekit import (
    AUTH,
    CPU_HOUR,
    TOKEN,
    USER,
    miniwdl_run,
    sprocket_run,
    sprocket_runs,
    tracked_run,
    tracked_tasks,
    watch,
)
from fixtures.trackerapi import Api
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.engines


@pytest.fixture(scope="module")
def wdl_runs(tracker: Api, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """A Sprocket scatter and a failing Sprocket run reported by the watcher, and a
    miniwdl two-task run reported by its plugin: the tracker's view of each, by target."""
    workdir = tmp_path_factory.mktemp("sprocket-pages")
    out = workdir / "out"
    for workflow, inputs, succeeds in (
        ("scatter.wdl", ('scatter_samples.samples=["s1","s2","s3"]',), True),
        ("failing.wdl", (), False),
    ):
        done = sprocket_run(workflow, workdir, out, *inputs)
        assert (done.returncode == 0) is succeeds, done.stderr
    watched = watch(out, f"{tracker.url}/tower", "--once")
    assert watched.returncode == 0, watched.stderr
    runs = {target: tracked_run(tracker.url, name) for name, (target, _) in sprocket_runs(out).items()}
    miniwdl_dir = tmp_path_factory.mktemp("miniwdl-pages")
    done = miniwdl_run("two_tasks.wdl", miniwdl_dir, f"{tracker.url}/tower", "who=pages")
    assert done.returncode == 0, done.stderr
    [run_dir] = [p for p in miniwdl_dir.iterdir() if p.is_dir() and p.name[0].isdigit()]
    runs["miniwdl"] = tracked_run(tracker.url, run_dir.name)
    return runs


def open_run(page: Page, tracker: Api, run: dict[str, object], tab: str = "overview") -> None:
    url = f"{tracker.url}/runs/{run['id']}?tab={tab}"
    if page.context.cookies():
        page.goto(url)
    else:
        sign_in(page, url, TOKEN)


def test_a_sprocket_scatter_on_its_page(tracker: Api, wdl_runs: dict[str, dict[str, object]], page: Page) -> None:
    run = wdl_runs["scatter_samples"]
    open_run(page, tracker, run)
    expect(page.locator("#run-state")).to_contain_text("Succeeded")
    expect(page.locator(".page-title .meta")).to_contain_text(USER)
    align = page.locator("#processes tbody tr", has_text="align")
    expect(align).to_have_count(1)
    expect(align.locator("td").first).to_have_text("3")  # succeeded
    screenshot(page, "engines-sprocket-scatter-overview")

    page.get_by_role("tab", name="Task Timeline").click()
    expect(page.locator("#timeline-svg rect.tl-run")).to_have_count(3)
    expect(page.locator("#timeline-svg g.tl-bar.tl-completed")).to_have_count(3)
    screenshot(page, "engines-sprocket-scatter-timeline")

    page.get_by_role("tab", name="Config & Params").click()
    expect(page.locator("#panel-config")).to_contain_text('"scatter_samples.samples"')
    expect(page.locator("#panel-config")).to_contain_text('"s3"')

    page.goto(f"{tracker.url}/runs/{run['id']}")
    page.locator("#tasks-button").click()
    expect(page.locator("#tasks-summary")).to_contain_text("3")
    expect(page.locator("table.tasks tbody tr")).to_have_count(3)
    page.locator("table.tasks tbody tr").first.get_by_role("link", name="align").click()
    expect(page.locator("#process-name")).to_have_text("align")
    expect(page.locator("#attempts-table tbody tr")).to_have_count(3)
    screenshot(page, "engines-sprocket-scatter-process")

    page.goto(f"{tracker.url}/runs/{run['id']}?tab=notes")
    page.get_by_label("Add a note as").fill("Sprocket <b>scatter</b> looks right")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_url("**tab=notes#notes-list")
    expect(page.locator("#notes-list .note-body").first).to_have_text("Sprocket <b>scatter</b> looks right")


def test_a_failed_sprocket_run_opens_on_its_error(
    tracker: Api, wdl_runs: dict[str, dict[str, object]], page: Page
) -> None:
    run = wdl_runs["failing"]
    open_run(page, tracker, run, tab="")
    expect(page.get_by_role("tab", name="Error & Resume")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#run-state")).to_contain_text("Failed")
    expect(page.locator("#panel-error")).to_contain_text(str(run["errorMessage"]).splitlines()[0][:40])
    page.get_by_role("tab", name="Task Timeline").click()
    expect(page.locator("#timeline-svg g.tl-bar.tl-failed")).to_have_count(1)
    screenshot(page, "engines-sprocket-failed-error")


def test_a_miniwdl_run_on_its_page(tracker: Api, wdl_runs: dict[str, dict[str, object]], page: Page) -> None:
    run = wdl_runs["miniwdl"]
    open_run(page, tracker, run)
    expect(page.locator("#run-state")).to_contain_text("Succeeded")
    for process in ("greet", "count_words"):
        expect(page.locator("#processes tbody tr", has_text=process)).to_have_count(1)
    page.get_by_role("tab", name="Task Timeline").click()
    expect(page.locator("#timeline-svg rect.tl-run")).to_have_count(2)
    page.get_by_role("tab", name="Config & Params").click()
    expect(page.locator("#panel-config")).to_contain_text('"who": "pages"')
    screenshot(page, "engines-miniwdl-config")


def test_a_succeeded_sprocket_run_is_priced_from_its_attempts(
    tracker: Api, wdl_runs: dict[str, dict[str, object]], page: Page
) -> None:
    run = wdl_runs["scatter_samples"]
    attempts = tracked_tasks(tracker.url, str(run["id"]))
    assert all(t["cpus"] and t["realtimeMs"] is not None for t in attempts), attempts
    by_hand = sum(t["realtimeMs"] / 3_600_000 * t["cpus"] for t in attempts) * CPU_HOUR  # billed hours x CPUs
    cost = httpx.get(f"{tracker.url}/api/v1/runs/{run['id']}/cost", headers=AUTH, timeout=30).json()
    assert cost["estimated"] is True
    assert cost["total"]["cost"] == pytest.approx(by_hand)
    open_run(page, tracker, run)
    card = page.get_by_role("link", name=re.compile(r"^\$"))
    expect(card).to_have_attribute("href", re.compile(r"tab=cost"))
    card.click()
    expect(page.get_by_role("tab", name="Cost & Performance")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#cost-total")).to_have_text(f"${by_hand:,.2f}")
    expect(page.locator("#cost-table tbody tr", has_text="align")).to_have_count(1)
    screenshot(page, "engines-sprocket-scatter-cost")
    open_run(page, tracker, wdl_runs["failing"], tab="cost")  # a failed run has no such tab
    expect(page.get_by_role("tab", name="Cost & Performance")).to_have_count(0)
