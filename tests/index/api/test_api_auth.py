"""Authentication modes: `none` (a warning at startup), `token` (static bearer
tokens), and the TokenReview authenticator's cache; probes stay open. The
`kubernetes` mode against a real API server is in tests/cluster/test_api_tokenreview.py."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from api_seed import TOKEN
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kubernetes import client as kube

from tracker.api.auth import StaticTokens, TokenReviewer, User
from tracker.api.paths import (
    HEALTHZ,
    JOBS,
    METRICS,
    OPENAPI,
    OUTPUTS_SEARCH,
    READYZ,
    RUN,
    RUNS,
    SWAGGER_UI,
    api_path,
)

AppFactory = Callable[..., FastAPI]
GUARDED = [api_path(RUNS), api_path(RUN, run="foo-run-001"), api_path(JOBS), api_path(OUTPUTS_SEARCH) + "?q=x"]
OPEN = [HEALTHZ, READYZ, METRICS, OPENAPI, SWAGGER_UI]


def test_none_mode_needs_no_token_and_warns(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tracker.api.auth"):
        app = make_app(auth_mode="none")
    assert "authentication is off" in caplog.text
    assert "local demo only" in caplog.text
    with TestClient(app) as client:
        for path in GUARDED:
            assert client.get(path).status_code == 200, path
        assert "securitySchemes" not in client.get(OPENAPI).json().get("components", {})


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", "Basic YWxpY2U6eA==", "Bearer ", TOKEN, f"bearer {TOKEN}x"]
)
def test_token_mode_refuses_missing_or_invalid_tokens(token_client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    for path in GUARDED:
        response = token_client.get(path, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["detail"] in (
            "missing bearer token (Authorization: Bearer TOKEN)",
            "invalid bearer token",
        )


def test_token_mode_accepts_configured_tokens(token_client: TestClient) -> None:
    for scheme in ("Bearer", "bearer"):
        for path in GUARDED:
            assert token_client.get(path, headers={"Authorization": f"{scheme} {TOKEN}"}).status_code == 200


def test_probes_metrics_and_docs_stay_open(token_client: TestClient) -> None:
    for path in OPEN:
        assert token_client.get(path).status_code == 200, path


def test_token_mode_documents_bearer_auth_and_401(token_client: TestClient) -> None:
    schema = token_client.get(OPENAPI).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "a static API token or a Kubernetes bearer token",
    }
    operation = schema["paths"][api_path(RUNS)]["get"]
    assert operation["security"] == [{"HTTPBearer": []}]
    assert "401" in operation["responses"]
    assert "security" not in schema["paths"][HEALTHZ]["get"]


def test_token_mode_without_tokens_refuses_everyone(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="tracker.api.auth"):
        app = make_app(auth_mode="token", tokens={})
    assert "no tokens are configured" in caplog.text
    with TestClient(app) as client:
        assert client.get(api_path(RUNS), headers={"Authorization": "Bearer "}).status_code == 401


def test_static_tokens_map_to_usernames() -> None:
    tokens = StaticTokens({"t-alice": "alice", "t-bob": "bob", "": "nobody"})
    assert tokens.authenticate("t-alice") == User("alice")
    assert tokens.authenticate("t-bob") == User("bob")
    assert tokens.authenticate("") is None
    assert tokens.authenticate("t-alic") is None


class CountingReviewer(TokenReviewer):
    """The real cache in front of a stand-in for the API server's answer."""

    def __init__(self, now: list[float]) -> None:
        super().__init__(api=None, ttl=60, max_entries=2, clock=lambda: now[0])
        self.reviews: list[str] = []

    def _review(self, token: str) -> User | None:
        self.reviews.append(token)
        return User(f"user-of-{token}", ("g",)) if token.startswith("good") else None


def test_token_review_caches_accepted_tokens_briefly() -> None:
    now = [0.0]
    reviewer = CountingReviewer(now)
    assert reviewer.authenticate("good-1") == User("user-of-good-1", ("g",))
    assert reviewer.authenticate("good-1") == User("user-of-good-1", ("g",))
    assert reviewer.reviews == ["good-1"]
    now[0] = 61.0
    reviewer.authenticate("good-1")
    assert reviewer.reviews == ["good-1", "good-1"]  # expired: asked again


def test_token_review_never_caches_refusals_and_bounds_the_cache() -> None:
    reviewer = CountingReviewer([0.0])
    assert reviewer.authenticate("bad") is None
    assert reviewer.authenticate("bad") is None
    assert reviewer.reviews == ["bad", "bad"]
    for token in ("good-1", "good-2", "good-3", "good-1"):
        reviewer.authenticate(token)
    assert reviewer.reviews[2:] == ["good-1", "good-2", "good-3", "good-1"]  # good-1 was evicted


def test_kubernetes_mode_answers_503_when_the_api_server_cannot_be_reached(make_app: AppFactory) -> None:
    configuration = kube.Configuration(host="https://127.0.0.1:9")
    configuration.retries = False
    with TestClient(make_app(auth_mode="kubernetes", kube_api=kube.ApiClient(configuration))) as client:
        assert client.get(api_path(RUNS)).status_code == 401  # no token: refused without asking
        response = client.get(api_path(RUNS), headers={"Authorization": "Bearer some-token"})
        assert response.status_code == 503
        assert response.json() == {"detail": "cannot check the token with the Kubernetes API server"}
        assert client.get(HEALTHZ).status_code == 200
