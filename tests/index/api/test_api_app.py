"""The app around the routes: probes, metrics, the OpenAPI document and Swagger
UI, unknown routes, and errors that leak nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tracker.api.app import create_app
from tracker.api.paths import HEALTHZ, JOB, METRICS, OPENAPI, READYZ, RUN, RUNS, SWAGGER_UI, api_path
from tracker.settings import Settings
from tracker.store.engine import make_engine, session_factory


def test_probes(client: TestClient) -> None:
    assert client.get(HEALTHZ).json() == {"status": "ok"}
    assert client.get(READYZ).json() == {"status": "ready"}


def test_openapi_and_swagger_ui(client: TestClient) -> None:
    schema = client.get(OPENAPI).json()
    assert schema["info"]["title"] == "Workflow Tracker"
    assert set(schema["paths"]) >= {
        api_path(RUNS),
        "/api/v1/runs/{run}",
        "/api/v1/runs/{run}/outputs",
        "/api/v1/outputs/lookup",
        "/api/v1/outputs/search",
        "/api/v1/jobs",
        "/api/v1/jobs/{job_id}",
        HEALTHZ,
        READYZ,
    }
    errors = schema["paths"]["/api/v1/runs/{run}"]["get"]["responses"]
    assert {"404", "409", "422", "500"} <= set(errors)
    assert errors["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationProblem")
    assert errors["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/AmbiguousRunProblem")
    page = client.get(SWAGGER_UI)
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert OPENAPI in page.text
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404


class _Links(HTMLParser):
    """Every URL a page refers to (src, href), and the text inside its script elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("src", "href", "action", "srcset")]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def test_swagger_ui_refers_only_to_local_assets(client: TestClient) -> None:
    page = client.get(SWAGGER_UI)
    links = _Links()
    links.feed(page.text)
    for remote in ("http:", "https:", "//"):
        assert remote not in page.text
    assert links.inline_scripts == []  # the start-up code is a file: the CSP forbids inline code
    assert len(links.urls) == 4  # favicon, stylesheet, bundle, start-up script
    types = {}
    for url in links.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        types[url.rsplit("/", 1)[-1]] = asset.headers["content-type"].split(";")[0]
    assert types == {
        "favicon.png": "image/png",
        "swagger-ui.css": "text/css",
        "swagger-ui-bundle.js": "text/javascript",
        "swagger-init.js": "text/javascript",
    }
    policy = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    # only the app itself; images also as data: URIs (swagger-ui.css's icons), which fetch nothing
    assert all(
        set(sources.split()) <= {"'self'", "'none'"} for directive, sources in policy.items() if directive != "img-src"
    ), policy
    assert policy["img-src"] == "'self' data:"


@pytest.mark.parametrize(
    "path",
    ["/nope", "/api/v1", "/api/v1/", "/api/v1/runs/", "/api/v2/runs", "/api/v1/runs/foo-run-001/nope", "/api/v1/jobs/"],
)
def test_unknown_routes_are_404(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_read_only(client: TestClient) -> None:
    response = client.post(api_path(RUNS), json={})
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert client.delete(api_path(JOB, job_id="x")).status_code == 405


def test_metrics_count_requests_by_route_template_and_status(client: TestClient) -> None:
    client.get(api_path(RUN, run="foo-run-001"))
    client.get(api_path(RUN, run="bar-run-002"))
    client.get(api_path(RUN, run="missing"))
    client.get("/no/such/route")
    response = client.get(METRICS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'tracker_api_requests_total{method="GET",route="/api/v1/runs/{run}",status="200"} 2.0' in text
    assert 'tracker_api_requests_total{method="GET",route="/api/v1/runs/{run}",status="404"} 1.0' in text
    assert 'tracker_api_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'tracker_api_request_duration_seconds_count{method="GET",route="/api/v1/runs/{run}"} 3.0' in text
    assert "foo-run-001" not in text


def broken_sessions(error: Exception) -> object:
    def sessions() -> object:
        raise error

    return sessions


def test_unexpected_errors_are_a_plain_500_that_leaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Settings(), broken_sessions(RuntimeError("password=hunter2 at db.internal")))  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(api_path(RUN, run="foo-run-001"))
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "hunter2" in caplog.text  # the operator of the API sees it in the log


def test_an_unreachable_database_is_503_and_not_ready(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}")  # a directory: SQLite cannot open it
    with TestClient(create_app(Settings(), session_factory(engine, readonly=True))) as client:
        assert client.get(READYZ).status_code == 503
        assert client.get(READYZ).json() == {"status": "unavailable"}
        response = client.get(api_path(RUNS))
        assert response.status_code == 503
        assert response.json() == {"detail": "the index database is unavailable"}
        assert str(tmp_path) not in response.text
        assert client.get(HEALTHZ).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "takes"),
    [
        (
            api_path(RUNS),
            {"status": "Running"},
            "this route takes archived, cluster, created_after, created_before, label, "
            "limit, name, namespace, offset, owner, sort, state",
        ),
        (api_path(JOB, job_id="x"), {"verbose": "1"}, "this route takes none"),
    ],
)
def test_unknown_query_parameters_are_422(client: TestClient, path: str, params: dict[str, str], takes: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422
    [name] = params
    assert response.json()["detail"] == f"query parameter {name!r}: unknown query parameter ({takes})"


def test_a_single_valued_parameter_given_twice_is_422(client: TestClient) -> None:
    response = client.get("/api/v1/runs?owner=alice&owner=bob")
    assert response.status_code == 422
    assert response.json()["detail"] == "query parameter 'owner': given more than once; it takes one value"
    assert client.get("/api/v1/runs?state=Running&state=Failed").status_code == 200  # repeatable


@pytest.mark.parametrize("value", ["6.4e-133", "1715626931", "-3"])
def test_a_bare_number_is_not_a_time(client: TestClient, value: str) -> None:
    response = client.get("/api/v1/runs", params={"created_before": value})
    assert response.status_code == 422
    assert "expected an RFC 3339 time such as 2026-05-13T19:02:11Z" in response.json()["detail"]


def test_the_api_uses_no_fastapi_internals() -> None:
    """Private modules (`fastapi._compat`) and attributes (`route.dependant`) change
    without notice between FastAPI releases: the API uses public interfaces only."""
    import tracker.api

    private = re.compile(r"\bfastapi(\.\w+)*\._\w+|\bstarlette(\.\w+)*\._\w+|\bdependant\b")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in Path(tracker.api.__file__).parent.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if private.search(line)
    ]
    assert found == []
