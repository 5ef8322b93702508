"""The Run Detail page's Task Timeline tab through the ASGI app, on both engines:
one bar (with its title) per timed attempt grouped by process, cached attempts
counted apart, task names escaped, zoom links, a bad zoom falling back to the
default, a run without attempts saying so, and the drawing left out of the page
unless the timeline is the tab asked for."""

from __future__ import annotations

import re

import pytest
from api_seed import FOO_ID, TWIN_A_ID, at
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tracker.api.paths import PAGE_RUN, page_path
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.store import tasks
from tracker.store.engine import session_factory

XSS = "<script>alert('pwned')</script>"
SEEDED = (
    TaskRecord("e1", 1, TaskStatus.COMPLETED, name=f"FASTQC ({XSS})", process="NF:RNASEQ:FASTQC",
               submitted_at=at(1), started_at=at(2), completed_at=at(5)),
    TaskRecord("e1", 2, TaskStatus.RETRIED, name="ALIGN (s1)", process="NF:RNASEQ:ALIGN",
               submitted_at=at(2), started_at=at(3), completed_at=at(6), exit_code=137),
    TaskRecord("e1", 3, TaskStatus.COMPLETED, name="ALIGN (s1)", process="NF:RNASEQ:ALIGN", attempt=2,
               submitted_at=at(6), started_at=at(6), completed_at=at(9)),
    TaskRecord("e1", 4, TaskStatus.CACHED, name="FASTQC (s2)", process="NF:RNASEQ:FASTQC"),
    TaskRecord("e1", 5, TaskStatus.RUNNING, name="MULTIQC", process="NF:MULTIQC", submitted_at=at(8), started_at=at(9)),
)  # fmt: skip


@pytest.fixture(autouse=True)
def seeded_tasks(engine: Engine) -> None:
    with session_factory(engine)() as session:
        tasks.upsert_tasks(session, run_id=FOO_ID, tasks=SEEDED)
        session.commit()


def page(client: TestClient, ref: str, **params: object) -> str:
    response = client.get(page_path(PAGE_RUN, run=ref), params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert "Traceback" not in response.text
    return response.text


def test_timeline_tab_draws_every_timed_attempt_by_process(client: TestClient) -> None:
    html = page(client, FOO_ID, tab="timeline")
    assert re.search(r'data-tab="timeline"[^>]*aria-selected="true"', html)
    svg = html[html.index('<svg id="timeline-svg"') : html.index("</svg>")]
    assert svg.count('class="tl-run"') == 4  # the cached attempt is counted, not drawn
    assert re.findall(r'<g class="tl-lane" data-process="([^"]+)"', svg) == [
        "NF:RNASEQ:FASTQC",
        "NF:RNASEQ:ALIGN",
        "NF:MULTIQC",
    ]
    assert "RNASEQ:FASTQC · 1 cached" in svg
    assert 'class="tl-bar tl-retried"' in svg
    assert 'class="tl-bar tl-completed tl-retry"' in svg
    assert 'class="tl-bar tl-running tl-open"' in svg
    assert "<title>ALIGN (s1) · COMPLETED · attempt 2 · submitted 2026-05-13T19:06:00Z" in svg
    assert XSS not in html
    assert "FASTQC (&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;) · COMPLETED" in svg
    assert "4 attempts drawn in 3 processes" in html
    assert "1 cached" in html


def test_zoom_links_and_a_bad_zoom(client: TestClient) -> None:
    html = page(client, FOO_ID, tab="timeline", zoom="4")
    assert '<strong aria-current="true">4\N{MULTIPLICATION SIGN}</strong>' in html
    assert 'href="?tab=timeline&amp;zoom=1"' in html
    assert 'width="3870"' in html  # labels 240 + 4 * 900 plot + 30
    assert '<strong aria-current="true">1\N{MULTIPLICATION SIGN}</strong>' in page(
        client, FOO_ID, tab="timeline", zoom="3x"
    )


def test_the_timeline_of_a_run_without_task_attempts_says_so(client: TestClient) -> None:
    html = page(client, TWIN_A_ID, tab="timeline")
    assert re.search(r'data-tab="timeline"[^>]*aria-selected="true"', html)
    assert 'id="timeline-empty"' in html
    assert 'id="timeline-svg"' not in html


def test_the_timeline_is_drawn_only_on_its_own_tab(client: TestClient) -> None:
    overview = page(client, FOO_ID)
    assert 'id="timeline-svg"' not in overview
    assert re.search(r'id="panel-timeline"[^>]*hidden data-lazy>', overview)
    assert '<a href="?tab=timeline">Open Task Timeline</a>' in overview
    assert 'id="panel-notes"' in overview
    assert "data-lazy" not in overview.split('id="panel-notes"')[1].split(">")[0]
