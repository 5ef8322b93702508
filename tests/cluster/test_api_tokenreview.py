"""The read API in `kubernetes` auth mode against the real API server: bearer tokens
are checked with a TokenReview. `tracker-api` runs as a process (migrating its
index at startup) with the admin kubeconfig; an in-process app with a minted user
shows the least privilege it needs (`system:auth-delegator`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from fixtures.trackerapi import serve

from localcluster.controlplane import ControlPlane
from localcluster.processes import wait_until
from tracker.api.app import create_app
from tracker.api.auth import User
from tracker.api.client import ApiClient, ApiError
from tracker.api.paths import HEALTHZ, METRICS, READYZ, RUNS, api_path
from tracker.settings import ApiSettings, Settings
from tracker.store.engine import make_engine, migrate, session_factory

pytestmark = pytest.mark.cluster
KUBERNETES_AUTH = {"TRACKER_API__AUTH_MODE": "kubernetes"}


@pytest.fixture(scope="module")
def api_url(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tracker-api` serving a fresh SQLite index, authenticating with TokenReviews."""
    state = tmp_path_factory.mktemp("tracker-api")
    api = serve(f"sqlite:///{state / 'index.db'}", state, KUBECONFIG=str(control_plane.kubeconfig), **KUBERNETES_AUTH)
    yield api.url
    api.process.stop()


def service_account_token(plane: ControlPlane, namespace: str, name: str = "reader") -> str:
    plane.kubectl("create", "serviceaccount", name, "-n", namespace)
    return plane.kubectl("create", "token", name, "-n", namespace).stdout.strip()


def test_a_service_account_token_is_accepted(api_url: str, control_plane: ControlPlane, namespace: str) -> None:
    token = service_account_token(control_plane, namespace)
    response = httpx.get(api_url + api_path(RUNS), headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}  # migrated at startup
    with ApiClient(api_url, token=token) as api:
        assert api.lookup("s3://bucket/").items == []
        with pytest.raises(ApiError) as raised:
            api.run("no-such-run")
        assert raised.value.status == 404


@pytest.mark.parametrize("header", [None, "Bearer not-a-real-token", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"])
def test_missing_or_bad_tokens_are_refused(api_url: str, header: str | None) -> None:
    response = httpx.get(api_url + api_path(RUNS), headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] in ("invalid bearer token", "missing bearer token (Authorization: Bearer TOKEN)")


def test_probes_and_metrics_need_no_token(api_url: str) -> None:
    for path in (HEALTHZ, READYZ, METRICS):
        assert httpx.get(api_url + path).status_code == 200, path


def test_least_privilege_is_auth_delegator(control_plane: ControlPlane, namespace: str, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    migrate(engine)
    api_user = f"tracker-api-{uuid.uuid4().hex[:8]}"
    kube_api = control_plane.api_client(control_plane.mint_user(api_user))
    app = create_app(
        Settings(api=ApiSettings(auth_mode="kubernetes")), session_factory(engine, readonly=True), kube_api=kube_api
    )
    token = service_account_token(control_plane, namespace)
    headers = {"Authorization": f"Bearer {token}"}
    binding = f"{api_user}-auth-delegator"
    with TestClient(app) as client:
        refused = client.get(api_path(RUNS), headers=headers)  # may not create tokenreviews yet
        assert refused.status_code == 503
        assert refused.json() == {"detail": "cannot check the token with the Kubernetes API server"}
        control_plane.kubectl(
            "create", "clusterrolebinding", binding, "--clusterrole=system:auth-delegator", f"--user={api_user}"
        )
        try:
            wait_until(
                lambda: client.get(api_path(RUNS), headers=headers).status_code == 200,
                timeout=30,
                what="the TokenReview to be allowed",
            )
            user = app.state.authenticator.authenticate(token)
            assert user == User(f"system:serviceaccount:{namespace}:reader", user.groups)
            assert {"system:serviceaccounts", f"system:serviceaccounts:{namespace}"} <= set(user.groups)
        finally:
            control_plane.kubectl("delete", "clusterrolebinding", binding, check=False)
    engine.dispose()
