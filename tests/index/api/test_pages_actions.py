"""The Actions menu through the ASGI app, where no Kubernetes identity exists: with
authentication off nobody is offered "Delete output dir"; with static tokens the owner
is told to use the CLI, a colleague sees nothing, and a POST creates nothing (there is
no Kubernetes API here to create it with)."""

from __future__ import annotations

from collections.abc import Callable

from api_seed import FOO_ID, TOKEN
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tracker.api.paths import PAGE_RUN, PAGE_RUN_DELETE_JOB, PAGE_RUN_DELETE_OUTPUTS, page_path

AppFactory = Callable[..., FastAPI]
RUN = page_path(PAGE_RUN, run=FOO_ID)
CONFIRM = page_path(PAGE_RUN_DELETE_OUTPUTS, run=FOO_ID)
COLLEAGUE = "colleague-token"


def test_with_authentication_off_there_is_no_actions_menu(client: TestClient) -> None:
    page = client.get(RUN)
    assert page.status_code == 200
    assert 'id="run-actions"' not in page.text
    refused = client.get(CONFIRM)
    assert refused.status_code == 403
    assert "offered to its owner and to admins only" in refused.text
    posted = client.post(CONFIRM, data={"confirm": "delete"})
    assert posted.status_code == 403
    assert client.get(page_path(PAGE_RUN_DELETE_JOB, run=FOO_ID, job="x")).status_code == 404


def test_with_static_tokens_the_owner_is_told_to_use_the_cli(make_app: AppFactory) -> None:
    app = make_app(auth_mode="token", tokens={TOKEN: "alice", COLLEAGUE: "bob"})
    with TestClient(app) as http:
        owner = {"Authorization": f"Bearer {TOKEN}"}
        page = http.get(RUN, headers=owner)
        assert 'id="run-actions"' in page.text
        assert 'id="action-delete-outputs" aria-disabled="true"' in page.text
        assert "run `tracker outputs delete foo-run-001` instead" in page.text
        assert f'href="{CONFIRM}"' not in page.text
        confirm = http.get(CONFIRM, headers=owner)
        assert confirm.status_code == 200
        assert 'id="delete-form"' not in confirm.text
        posted = http.post(CONFIRM, data={"confirm": "delete"}, headers=owner)
        assert posted.status_code == 409
        assert "static API token" in posted.text
        colleague = {"Authorization": f"Bearer {COLLEAGUE}"}
        assert 'id="run-actions"' not in http.get(RUN, headers=colleague).text
        assert http.post(CONFIRM, data={"confirm": "delete"}, headers=colleague).status_code == 403


def test_a_deletion_posted_from_another_site_is_refused(make_app: AppFactory) -> None:
    with TestClient(make_app(auth_mode="token", tokens={TOKEN: "alice"})) as http:
        headers = {"Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.example"}
        refused = http.post(CONFIRM, data={"confirm": "delete"}, headers=headers)
        assert refused.status_code == 403
        assert "from another site is refused" in refused.text
