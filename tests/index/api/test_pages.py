"""The HTML pages through the ASGI app, on both engines: the runs list (filters,
sorting, pagination, ignored bad values), the Run Detail page (cards, banners,
tabs, process sorting, outputs, jobs, history), readable error pages, escaping of
untrusted values, and the login form and cookie when authentication is on."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from api_seed import FOO_ID, JOB_DELETE_FOO, TOKEN, TWIN_A_ID, TWIN_B_ID, at
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from tracker.api.auth import ReviewUnavailable
from tracker.api.paths import PAGE_LOGIN, PAGE_LOGOUT, PAGE_RUN, PAGE_RUNS, RUNS, api_path, page_path
from tracker.api.web.guard import COOKIE
from tracker.domain.records import OutputObject, Phase, ProcessCounts, RunRecord
from tracker.domain.runhealth import RunSignals, assess
from tracker.store import outputs, runs
from tracker.store.engine import session_factory

AppFactory = Callable[..., FastAPI]
XSS = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"
LOST_ID = "9a000000-0000-4000-8000-0000000000d1"
BROKEN_ID = "9a000000-0000-4000-8000-0000000000f1"


def _lost_runner() -> RunRecord:
    """A run the operator found Disconnected: state and conditions as it derives them."""
    record = RunRecord(
        id=LOST_ID,
        namespace="genomics",
        name="lost",
        run_name="lost-runner",
        owner="frank",
        cluster="hpc-west",
        phase="Running",
        created_at=at(5),
        started_at=at(5),
        last_heartbeat_at=at(6),
        processes=(ProcessCounts("A:B:C", running=2),),
    )
    signals = RunSignals(
        phase=Phase.RUNNING,
        created_at=at(5),
        last_heartbeat=at(6),
        processes=record.processes,
        tasks_terminal_since=None,
        heartbeat_timeout=timedelta(seconds=300),
        stalled_after=timedelta(seconds=600),
    )
    health = assess(signals, at(20))
    return RunRecord(**{**record.__dict__, "state": health.state, "conditions": health.conditions([], at(20), signals)})


BROKEN = RunRecord(
    id=BROKEN_ID,
    namespace="genomics",
    name="broken",
    run_name="broken-run",
    owner="alice",
    cluster="hpc-east",
    session_id="sess-9",
    phase="Failed",
    state="Failed",
    created_at=at(6),
    started_at=at(6),
    completed_at=at(7),
    error_message=f"ALIGN failed: {XSS}",
    params={"note": "<b>bold</b>"},
    config_text="x = '</pre><script>'",
    command_line="nextflow run <evil>",
)


@pytest.fixture(autouse=True)
def more_runs(engine: Engine) -> None:
    """A Disconnected run and a Failed one with markup in what its runner reported."""
    with session_factory(engine)() as session:
        runs.upsert_run(session, record=_lost_runner())
        runs.upsert_run(session, record=BROKEN)
        session.commit()


def html(client: TestClient, path: str, status: int = 200, **params: object) -> str:
    response = client.get(path, params=params, follow_redirects=False)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    return response.text


def listed(page: str) -> list[str]:
    return re.findall(r'<tr data-run-id="([^"]+)"', page)


def run_page(client: TestClient, ref: str, status: int = 200, **params: object) -> str:
    return html(client, page_path(PAGE_RUN, run=ref), status, **params)


def panel(page: str, tab: str) -> str:
    """The tab panel's opening tag."""
    found = re.search(rf'<section class="tab-panel"[^>]*id="panel-{tab}"[^>]*>', page)
    assert found, tab
    return found.group(0)


def selected_tab(page: str) -> str:
    found = re.findall(r'data-tab="(\w+)"[^>]*aria-selected="true"', page)
    assert len(found) == 1
    return found[0]


# -- runs list ---------------------------------------------------------------------------
def test_runs_list_shows_every_run_newest_first(client: TestClient) -> None:
    response = client.get(PAGE_RUNS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page = response.text
    assert len(listed(page)) == 7
    assert listed(page)[-1] == "6f1c2a4e-0000-4000-8000-000000000001"
    assert "Showing 1–7 of 7 runs" in page
    assert '<a class="run-link" href="/runs/foo-run-001?namespace=genomics">foo-run-001</a>' in page
    assert 'class="state state-stalled"' in page
    assert 'class="state state-disconnected"' in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "Stalled"}, ["6f1c2a4e-0000-4000-8000-000000000002"]),
        ({"state": ["Failed", "Disconnected"]}, [BROKEN_ID, LOST_ID, "6f1c2a4e-0000-4000-8000-00000000000b"]),
        ({"owner": "alice"}, [BROKEN_ID, FOO_ID, "6f1c2a4e-0000-4000-8000-000000000001"]),
        (
            {"cluster": "hpc-west"},
            [LOST_ID, "6f1c2a4e-0000-4000-8000-000000000002", "6f1c2a4e-0000-4000-8000-000000000001"],
        ),
        ({"q": "RUN-00"}, ["6f1c2a4e-0000-4000-8000-000000000002", FOO_ID]),
        ({"owner": "alice", "cluster": "hpc-east", "q": "foo"}, [FOO_ID]),
        ({"owner": "nobody"}, []),
        ({"owner": "a\x00b"}, []),
    ],
)
def test_runs_list_filters(client: TestClient, params: dict[str, object], expected: list[str]) -> None:
    page = html(client, PAGE_RUNS, **params)
    assert listed(page) == expected
    if not expected:
        assert "No runs match these filters." in page


def test_runs_list_keeps_filters_in_the_form(client: TestClient) -> None:
    page = html(client, PAGE_RUNS, state="Failed", owner="alice", q="bro")
    assert 'name="state" value="Failed" checked' in page
    assert 'name="state" value="Running">' in page
    assert 'id="filter-owner" name="owner" type="text" value="alice"' in page
    assert 'name="q" type="search" value="bro"' in page


def test_runs_list_sorts_on_the_server(client: TestClient) -> None:
    names = lambda page: re.findall(r'<a class="run-link" href="[^"]+">([^<]+)</a>', page)  # noqa: E731
    assert names(html(client, PAGE_RUNS, sort="run_name")) == sorted(names(html(client, PAGE_RUNS)))
    assert names(html(client, PAGE_RUNS, sort="-run_name"))[0] == "twin"
    page = html(client, PAGE_RUNS, sort="run_name", owner="alice")
    assert '<th scope="col" aria-sort="ascending"><a href="/runs?owner=alice&amp;sort=-run_name"' in page
    assert '<th scope="col"><a href="/runs?owner=alice" class="sort-link">Created' in page  # newest first: the default


def test_runs_list_pages(client: TestClient) -> None:
    first = html(client, PAGE_RUNS, per_page=3)
    assert len(listed(first)) == 3
    assert "Showing 1–3 of 7 runs" in first
    assert "Page 1 of 3" in first
    assert 'rel="next" href="/runs?per_page=3&amp;page=2"' in first
    assert 'rel="prev"' not in first
    last = html(client, PAGE_RUNS, per_page=3, page=3)
    assert len(listed(last)) == 1
    assert "Showing 7–7 of 7 runs" in last
    assert 'rel="prev" href="/runs?per_page=3&amp;page=2"' in last
    assert 'rel="next"' not in last
    pages = [listed(html(client, PAGE_RUNS, per_page=3, page=n)) for n in (1, 2, 3)]
    assert sorted(itertools.chain.from_iterable(pages)) == sorted(listed(html(client, PAGE_RUNS)))
    beyond = html(client, PAGE_RUNS, per_page=3, page=9)
    assert listed(beyond) == []
    assert "No runs on page 9; there are 7 in all." in beyond


def test_runs_list_ignores_bad_values_with_a_message(client: TestClient) -> None:
    page = html(client, PAGE_RUNS, state="<Bogus>", sort="password", page="-1", extra="x")
    assert len(listed(page)) == 7
    assert "Ignored state &#39;&lt;Bogus&gt;&#39;" in page
    assert "<Bogus>" not in page
    assert "Ignored sort &#39;password&#39;" in page
    assert "Ignored page &#39;-1&#39;" in page


# -- Run Detail ----------------------------------------------------------------------------
def test_detail_cards_of_a_seeded_run(client: TestClient) -> None:
    for ref in ("foo-run-001", FOO_ID):
        page = run_page(client, ref)
        assert "<h1>foo-run-001</h1>" in page
        assert (
            '<a href="https://github.com/nf-core/rnaseq" rel="noopener noreferrer">https://github.com/nf-core/rnaseq</a>'
            in page
        )
        assert '<a href="https://github.com/nf-core/rnaseq/tree/3.14" rel="noopener noreferrer">3.14</a>' in page
        assert 'href="https://github.com/nf-core/rnaseq/commit/abc123def"' in page
        assert '<dd id="info-workdir"><code>s3://work/foo/</code></dd>' in page
        assert '<dd id="info-cost">$3.50</dd>' in page
        assert '<span id="info-outputs-size">1.0 GiB</span> <span class="muted">(4 objects)</span>' in page
        assert "$0.05 – $0.25 / year" in page
        assert re.search(
            r"Frequent</span> <span>\$0\.25.*Infrequent</span> <span>\$0\.15.*"
            r"Archive Instant</span> <span>\$0\.05",
            page,
            re.S,
        )
        assert 'aria-describedby="tier-breakdown"' in page
        assert 'role="tooltip" id="tier-breakdown"' in page
        assert '<dd id="info-started"><time datetime="2026-05-13T19:02:00Z">' in page
        assert '<dd id="info-completed"><time datetime="2026-05-13T20:02:00Z">' in page
        assert '<dd id="info-duration">1h 0m</dd>' in page
        assert '<dd id="info-peak">24</dd>' in page
        assert '<dd id="info-status"><span class="state state-succeeded">' in page
        assert "disconnected-banner" not in page
        assert "stalled-notice" not in page
        assert selected_tab(page) == "overview"
        assert "hidden" not in panel(page, "overview")


def test_detail_process_table_sorts_on_the_server(client: TestClient) -> None:
    order = lambda page: re.findall(r'<th scope="row" data-value="([^"]+)"', page)  # noqa: E731
    assert order(run_page(client, "foo-run-001")) == ["FASTQC", "ALIGN"]  # the runner's order
    assert order(run_page(client, "foo-run-001", psort="name")) == ["ALIGN", "FASTQC"]
    assert order(run_page(client, "foo-run-001", psort="-retried")) == ["ALIGN", "FASTQC"]
    page = run_page(client, "foo-run-001", psort="-succeeded")
    assert order(page) == ["FASTQC", "ALIGN"]
    assert 'aria-sort="descending" class="num" data-type="number"><a href="?tab=overview&amp;psort=succeeded' in page
    for column in ("Process", "Succeeded", "Failed", "Aborted", "Running", "Cached", "Retried", "Submitted"):
        assert f'>{column}<span class="sort-indicator"' in page
    assert order(run_page(client, "foo-run-001", psort="<bad>")) == ["FASTQC", "ALIGN"]


def test_process_names_are_shortened(client: TestClient) -> None:
    page = run_page(client, "lost-runner")
    assert (
        '<th scope="row" data-value="B:C" title="A:B:C">'
        '<a class="process-link" href="/runs/lost-runner/processes/A%3AB%3AC">B:C</a></th>'
    ) in page


def test_disconnected_run_shows_the_banner(client: TestClient) -> None:
    page = run_page(client, "lost-runner")
    assert 'class="banner banner-warning" role="alert" id="disconnected-banner"' in page
    assert "no heartbeat for more than 5m" in page
    assert '<span class="state state-disconnected" id="run-state">' in page


def test_stalled_run_shows_the_notice(client: TestClient) -> None:
    page = run_page(client, "bar-run-002")
    assert 'class="banner banner-notice" role="status" id="stalled-notice"' in page
    assert "every task terminal for 600s" in page
    assert "disconnected-banner" not in page


def test_deleted_outputs_show_deleted_with_who_and_when(client: TestClient) -> None:
    page = run_page(client, "old-run")
    assert '<strong class="deleted">Deleted</strong>' in page
    assert re.search(r'id="info-deleted-by">by alice at <time datetime="2026-05-13T19:11:00Z">', page)
    assert "/ year" not in page


def test_failed_run_opens_on_its_error_escaped(client: TestClient) -> None:
    page = run_page(client, "broken-run")
    assert selected_tab(page) == "error"
    assert "hidden" not in panel(page, "error")
    assert "hidden" in panel(page, "overview")
    assert (
        '<pre class="code" id="resume-command" aria-labelledby="resume-title">-resume sess-9 -name broken-run</pre>'
        in page
    )
    assert "ALIGN failed: &lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    for raw in ("<script>alert", "<img src=x", "<b>bold</b>", "</pre><script>", "<evil>"):
        assert raw not in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "nextflow run &lt;evil&gt;" in page
    assert selected_tab(run_page(client, "broken-run", tab="config")) == "config"


def test_tabs_by_query(client: TestClient) -> None:
    page = run_page(client, "foo-run-001", tab="config")
    assert selected_tab(page) == "config"
    assert "hidden" not in panel(page, "config")
    assert "process.executor = &#39;awsbatch&#39;" in page
    assert "&#34;genome&#34;: &#34;GRCh38&#34;" in page
    assert "nextflow run nf-core/rnaseq -name foo-run-001 -resume" in page
    assert selected_tab(run_page(client, "foo-run-001", tab="error")) == "overview"  # not failed
    assert 'role="tablist" aria-label="Run sections"' in page
    assert 'href="?tab=jobs"' in page
    assert 'aria-controls="panel-jobs"' in page
    assert "Error &amp; Resume" not in page


def test_resumed_run_has_its_history(client: TestClient) -> None:
    page = run_page(client, "foo-run-001", tab="history")
    assert selected_tab(page) == "history"
    assert ">Current</th>" in page
    assert ">#1</th>" in page
    assert "BWA_MEM exited 137" in page
    assert "sess-1" in page
    assert "$1.25" in page
    assert 'data-tab="history"' not in run_page(client, "bar-run-002")


def test_outputs_tab_browses_and_searches(client: TestClient) -> None:
    root = run_page(client, "foo-run-001", tab="outputs")
    assert '<a href="?tab=outputs&amp;dir=qc%2F">qc/</a>' in root
    assert "sample.bam" in root
    qc = run_page(client, "foo-run-001", tab="outputs", dir="qc/")
    assert '<a href="?tab=outputs&amp;dir=qc%2Ffastqc%2F">fastqc/</a>' in qc
    assert ">report.html</th>" in qc
    assert "sample.bam" not in qc
    found = run_page(client, "foo-run-001", tab="outputs", q="fastqc zip")
    assert "2 outputs match" in found
    assert ">qc/fastqc/a_R1.zip</th>" in found
    assert "report.html" not in found
    assert "Deleted" in run_page(client, "old-run", tab="outputs")
    run_page(client, "foo-run-001", tab="outputs", dir="a\x00b", q="x\x00", offset="-3")  # no error


def test_outputs_tab_says_at_least_when_the_count_stops(client: TestClient, engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        objects = [OutputObject(f"s3://bucket/runs/foo/many/{n:03d}.txt", 1) for n in range(250)]
        outputs.upsert_outputs(session, run_id=FOO_ID, objects=objects)
    found = run_page(client, "foo-run-001", tab="outputs", q="many")
    assert "At least 200 outputs match" in found
    assert "At least" not in run_page(client, "foo-run-001", tab="outputs", q="fastqc zip")


def test_outputs_tab_keeps_the_namespace(client: TestClient) -> None:
    page = run_page(client, "twin", tab="outputs", namespace="lab-a")
    assert "This run has no output directory." in page
    assert TWIN_A_ID in page
    assert 'href="?tab=config&amp;namespace=lab-a"' in page


def test_jobs_tab_lists_the_runs_jobs(client: TestClient) -> None:
    page = run_page(client, "foo-run-001", tab="jobs")
    assert JOB_DELETE_FOO in page
    assert "2 lifecycle jobs" in page
    assert "1 object deleted (500 B)" in page
    assert "4 objects indexed" in page
    assert "No lifecycle job was requested" in run_page(client, "broken-run")


# -- errors --------------------------------------------------------------------------------
def test_unknown_run_is_a_readable_404(client: TestClient) -> None:
    page = run_page(client, "no-such-run", 404)
    assert "<h1>Run not found</h1>" in page
    assert "no run &#39;no-such-run&#39; in the index" in page
    assert "no run &#39;foo-run-001&#39; in namespace &#39;lab-a&#39;" in run_page(
        client, "foo-run-001", 404, namespace="lab-a"
    )
    run_page(client, "a\x00b", 404)


def test_ambiguous_run_name_is_a_readable_409(client: TestClient) -> None:
    page = run_page(client, "twin", 409)
    assert "<h1>Which run?</h1>" in page
    assert "exists in several namespaces (lab-a, lab-b)" in page
    for run_id, namespace in ((TWIN_A_ID, "lab-a"), (TWIN_B_ID, "lab-b")):  # a link to each run, by id
        assert f'<a href="/runs/{run_id}">twin in namespace {namespace}</a>' in page
        assert f"id <code>{run_id}</code>" in page
    assert TWIN_A_ID in run_page(client, "twin", namespace="lab-a")


def test_database_down_and_unexpected_errors_are_readable(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    def down() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused to 10.0.0.1"))

    app.state.sessions = down
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in (PAGE_RUNS, page_path(PAGE_RUN, run="foo-run-001")):
            page = html(client, path, 503)
            assert "the index database is unavailable" in page
            assert "10.0.0.1" not in page

    def broken() -> None:
        raise RuntimeError("secret internals")

    app.state.sessions = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        page = html(client, PAGE_RUNS, 500)
        assert "internal error" in page
        assert "secret internals" not in page
    assert "secret internals" in caplog.text  # logged, not shown


def test_pages_are_not_in_the_openapi_document(client: TestClient) -> None:
    documented = client.get("/api/v1/openapi.json").json()["paths"]
    assert api_path(RUNS) in documented
    assert not {PAGE_RUNS, PAGE_RUN, PAGE_LOGIN, PAGE_LOGOUT, "/"} & set(documented)


def test_static_files_are_served(client: TestClient) -> None:
    css, js = client.get("/static/tracker.css"), client.get("/static/tracker.js")
    assert css.status_code == js.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ".state-failed" in css.text
    assert "javascript" in js.headers["content-type"]
    assert "aria-selected" in js.text
    assert client.get("/static/nope.css").status_code == 404


def test_home_leads_to_the_runs_list(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == PAGE_RUNS


# -- authentication ------------------------------------------------------------------------
def test_open_pages_without_authentication(client: TestClient) -> None:
    assert client.get(PAGE_LOGIN, follow_redirects=False).headers["location"] == PAGE_RUNS
    assert "Sign out" not in html(client, PAGE_RUNS)


@pytest.mark.parametrize("path", [PAGE_RUNS, "/runs/foo-run-001?tab=config", "/runs/no-such-run", "/"])
def test_pages_redirect_to_login_without_a_token(token_client: TestClient, path: str) -> None:
    response = token_client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == "/login?next="
        + {
            PAGE_RUNS: "/runs",
            "/runs/foo-run-001?tab=config": "/runs/foo-run-001%3Ftab%3Dconfig",
            "/runs/no-such-run": "/runs/no-such-run",
            "/": "/",
        }[path]
    )


def test_login_sets_an_httponly_strict_cookie(token_client: TestClient) -> None:
    form = html(token_client, PAGE_LOGIN, next="/runs/foo-run-001")
    assert 'name="next" value="/runs/foo-run-001"' in form
    assert 'type="password"' in form
    response = token_client.post(PAGE_LOGIN, data={"token": TOKEN, "next": "/runs/foo-run-001"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/runs/foo-run-001"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN};")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    assert TOKEN not in response.headers["location"]
    page = html(token_client, "/runs/foo-run-001")  # the client keeps the cookie
    assert "Signed in as <strong>alice</strong>" in page
    assert "<h1>foo-run-001</h1>" in page


def test_login_refuses_a_wrong_token(token_client: TestClient) -> None:
    for token in ("wrong", "", TOKEN + "x"):
        response = token_client.post(PAGE_LOGIN, data={"token": token, "next": "/runs"}, follow_redirects=False)
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
        assert "That token was refused" in response.text
    assert token_client.get(PAGE_RUNS, follow_redirects=False).status_code == 303


def test_bearer_header_works_for_pages(token_client: TestClient) -> None:
    response = token_client.get(PAGE_RUNS, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "Signed in as <strong>alice</strong>" in response.text
    refused = token_client.get(PAGE_RUNS, headers={"Authorization": "Bearer nope"}, follow_redirects=False)
    assert refused.status_code == 303


def test_a_refused_cookie_is_forgotten(token_client: TestClient) -> None:
    token_client.cookies.set(COOKIE, "stale-token")
    response = token_client.get(PAGE_RUNS, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/runs"
    assert response.headers["set-cookie"].startswith(f'{COOKIE}="";')
    assert "Max-Age=0" in response.headers["set-cookie"]


def test_logout_forgets_the_cookie(token_client: TestClient) -> None:
    token_client.post(PAGE_LOGIN, data={"token": TOKEN}, follow_redirects=False)
    assert token_client.get(PAGE_RUNS, follow_redirects=False).status_code == 200
    response = token_client.post(PAGE_LOGOUT, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == PAGE_LOGIN
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert token_client.get(PAGE_RUNS, follow_redirects=False).status_code == 303


def test_the_cookie_does_not_authenticate_the_json_api(token_client: TestClient) -> None:
    token_client.post(PAGE_LOGIN, data={"token": TOKEN}, follow_redirects=False)
    assert token_client.get(PAGE_RUNS, follow_redirects=False).status_code == 200
    assert token_client.get(api_path(RUNS)).status_code == 401  # the API takes bearer headers only


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:x",
        "/login",
        "",
        "/runs\r\nSet-Cookie: x=y",
    ],
)
def test_login_never_redirects_off_site(token_client: TestClient, target: str) -> None:
    response = token_client.post(PAGE_LOGIN, data={"token": TOKEN, "next": target}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == PAGE_RUNS


def test_login_from_another_origin_is_refused(token_client: TestClient) -> None:
    response = token_client.post(
        PAGE_LOGIN, data={"token": TOKEN}, headers={"Origin": "https://evil.example"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    same = token_client.post(
        PAGE_LOGIN, data={"token": TOKEN}, headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert same.status_code == 303


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_sign_in_form_is_refused_unread(token_client: TestClient, chunked: bool) -> None:
    body = b"token=" + b"x" * (64 * 1024 + 1)
    content = iter([body[:1000], body[1000:]]) if chunked else body  # no Content-Length when streamed
    response = token_client.post(
        PAGE_LOGIN,
        content=content,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 413
    assert "set-cookie" not in response.headers


def test_token_review_down_is_a_readable_503(make_app: AppFactory) -> None:
    class Down:
        def authenticate(self, token: str) -> None:
            raise ReviewUnavailable("cannot check the token with the Kubernetes API server")

    app = make_app(auth_mode="token", tokens={TOKEN: "alice"})
    app.state.authenticator = Down()
    with TestClient(app) as client:
        response = client.get(PAGE_RUNS, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 503
        assert "cannot check the token" in response.text
        assert response.headers["content-type"].startswith("text/html")
        response = client.post(PAGE_LOGIN, data={"token": TOKEN}, follow_redirects=False)
        assert response.status_code == 503
        assert "set-cookie" not in response.headers
