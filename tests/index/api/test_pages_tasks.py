"""The tasks view and Process Detail pages through the ASGI app, on both engines:
the Run Detail page's Tasks button and process links (the process name
percent-encoded, the run's `?namespace=` kept), filters, search, sort and pages,
bad query values falling back to the defaults (never a 500), task names escaped,
a process known only from the process table, and the 404 page for an unknown one."""

from __future__ import annotations

import re
from html import unescape

import pytest
from api_seed import FOO_ID, TWIN_A_ID
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tracker.api.paths import PAGE_RUN, PAGE_RUN_PROCESS, PAGE_RUN_TASKS, page_path
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.store import tasks
from tracker.store.engine import session_factory

XSS = "<script>alert('pwned')</script>"
FASTQC = "NF:RNASEQ:FASTQC"
TWIN_TASKS = [
    TaskRecord("e1", i, TaskStatus.COMPLETED if i % 3 else TaskStatus.CACHED, name=f"FASTQC (s{i})",
               process=FASTQC, tag=f"s{i}", hash=f"{i:02x}/abcdef", duration_ms=1000 * i)
    for i in range(1, 121)
] + [TaskRecord("e1", 200, TaskStatus.FAILED, name=f"CALL ({XSS})", process="NF:CALL", exit_code=1)]  # fmt: skip


@pytest.fixture(autouse=True)
def seeded_tasks(engine: Engine) -> None:
    with session_factory(engine)() as session:
        for start in range(0, len(TWIN_TASKS), 100):
            tasks.upsert_tasks(session, run_id=TWIN_A_ID, tasks=TWIN_TASKS[start : start + 100])
        session.commit()


def page(client: TestClient, path: str, expect: int = 200, **params: object) -> str:
    response = client.get(path, params=params)  # type: ignore[arg-type]
    assert response.status_code == expect, response.text
    assert "Traceback" not in response.text
    return response.text


def rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="task-row[^"]*" data-task-id="(\d+)"', html)]


def hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_run_detail_links_to_the_tasks_view_and_each_process(client: TestClient) -> None:
    html = page(client, page_path(PAGE_RUN, run="twin"), namespace="lab-a")
    button = re.search(
        r'<a class="button" id="tasks-button" href="([^"]+)">Tasks <span class="count">(\d+)</span>', html
    )
    assert button is not None
    assert unescape(button.group(1)) == "/runs/twin/tasks?namespace=lab-a"
    assert button.group(2) == "121"
    foo = page(client, page_path(PAGE_RUN, run=FOO_ID))
    assert f'href="/runs/{FOO_ID}/processes/FASTQC">FASTQC</a>' in foo
    assert f'href="/runs/{FOO_ID}/tasks"' in foo


def test_tasks_view_filters_searches_sorts_and_pages(client: TestClient) -> None:
    path = page_path(PAGE_RUN_TASKS, run="twin")
    first = page(client, path, namespace="lab-a")
    assert rows(first) == list(range(1, 51))
    assert "Showing 1–50 of 121 task attempts" in first
    assert "/runs/twin/tasks?namespace=lab-a&page=2" in hrefs(first)
    assert all("namespace=lab-a" in h for h in hrefs(first) if h.startswith("/runs/twin"))
    assert XSS not in first
    last = page(client, path, namespace="lab-a", page=3)
    assert rows(last) == [*range(101, 121), 200]
    assert "&lt;script&gt;" in last
    cached = page(client, path, namespace="lab-a", process=FASTQC, status="CACHED", sort="-duration_ms")
    assert rows(cached)[:3] == [120, 117, 114]
    assert len(rows(cached)) == 40
    assert 'aria-sort="descending"' in cached
    assert 'option value="NF:RNASEQ:FASTQC" selected' in cached
    assert rows(page(client, path, namespace="lab-a", q="0a/ABC")) == [10]
    assert rows(page(client, path, namespace="lab-a", q="(s11", per_page=5)) == [11, *range(110, 114)]
    empty = page(client, path, namespace="lab-a", q="%")
    assert rows(empty) == []
    assert "No task attempt matches these filters." in empty


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "size"},
        {"sort": "-hash"},
        {"page": "0"},
        {"page": "-3"},
        {"page": "9999999999"},
        {"per_page": "100000"},
        {"status": "DONE"},
        {"process": "NF:NOPE"},
        {"q": "x" * 201},
        {"q": "a\x00b"},
    ],
)
def test_bad_query_values_fall_back_to_the_defaults(client: TestClient, params: dict[str, str]) -> None:
    html = page(client, page_path(PAGE_RUN_TASKS, run="twin"), namespace="lab-a", **params)
    assert rows(html) == list(range(1, 51))
    assert 'class="banner banner-notice"' in html


def test_a_page_past_the_end_says_so(client: TestClient) -> None:
    html = page(client, page_path(PAGE_RUN_TASKS, run="twin"), namespace="lab-a", page=40)
    assert rows(html) == []
    assert "No task attempts on page 40; there are 121 in all." in html


def test_process_detail_shows_the_process_numbers_and_attempts(client: TestClient) -> None:
    html = page(client, page_path(PAGE_RUN_PROCESS, run="twin", process=FASTQC), namespace="lab-a")
    assert page_path(PAGE_RUN_PROCESS, run="twin", process=FASTQC) == "/runs/twin/processes/NF%3ARNASEQ%3AFASTQC"
    assert "<h1>RNASEQ:FASTQC</h1>" in html
    assert re.search(r'id="stat-attempts">120<', html)
    assert re.search(r'id="stat-cached">40<', html)
    assert re.search(r'id="stat-duration">1.0s / 1m 0s / 1m 59s<', html)  # over the 80 executed attempts
    assert rows(html) == list(range(1, 101))
    assert "120 attempts, the first 100 shown." in html
    assert "/runs/twin/tasks?namespace=lab-a&process=NF%3ARNASEQ%3AFASTQC" in hrefs(html)
    assert "/runs/twin?namespace=lab-a" in hrefs(html)


def test_a_process_of_the_table_without_indexed_attempts(client: TestClient) -> None:
    html = page(client, page_path(PAGE_RUN_PROCESS, run=FOO_ID, process="ALIGN"))
    assert "No task attempt of this process has been indexed." in html
    assert "2 succeeded" in html
    assert "1 retried" in html


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        (page_path(PAGE_RUN_PROCESS, run=FOO_ID, process="NF:NOPE"), 404, "has no process"),
        (page_path(PAGE_RUN_PROCESS, run=FOO_ID, process="a\x00b"), 404, "has no process"),
        (page_path(PAGE_RUN_PROCESS, run="no-such-run", process="X"), 404, "no-such-run"),
        (page_path(PAGE_RUN_TASKS, run="no-such-run"), 404, "no-such-run"),
        (page_path(PAGE_RUN_TASKS, run="twin"), 409, "several namespaces"),
    ],
)
def test_unknown_processes_and_runs_are_error_pages(client: TestClient, path: str, status: int, message: str) -> None:
    html = page(client, path, status)
    assert 'id="error-detail"' in html
    assert message in unescape(html)
