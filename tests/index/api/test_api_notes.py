"""Notes on runs through the API and the Notes tab, on both engines, with static
tokens for two users: create, list newest first with history, edit by the author
only, limits, unknown run or note, no writes without an identity, markup escaped,
and the tab's form (same-origin POST, redirect back)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from api_seed import BAR_ID, FOO_ID, TOKEN
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tracker.api.paths import PAGE_RUN, PAGE_RUN_NOTE, PAGE_RUN_NOTES, RUN_NOTE, RUN_NOTES, api_path, page_path

BOB_TOKEN = "b0b-token"
ALICE = {"Authorization": f"Bearer {TOKEN}"}
BOB = {"Authorization": f"Bearer {BOB_TOKEN}"}
XSS = "<script>alert('owned')</script> & <b>bold</b>"


@pytest.fixture
def notes_client(make_app: Callable[..., FastAPI]) -> Iterator[TestClient]:
    app = make_app(writable=True, auth_mode="token", tokens={TOKEN: "alice", BOB_TOKEN: "bob"})
    with TestClient(app) as test_client:
        yield test_client


def post(client: TestClient, run: str, body: object, headers: dict[str, str] = ALICE, status: int = 201) -> dict:  # type: ignore[type-arg]
    response = client.post(api_path(RUN_NOTES, run=run), json=body, headers=headers)
    assert response.status_code == status, response.text
    answer: dict = response.json()  # type: ignore[type-arg]
    return answer


def listing(client: TestClient, run: str, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(api_path(RUN_NOTES, run=run), params=params, headers=ALICE)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    answer: dict = response.json()  # type: ignore[type-arg]
    return answer


# -- API ---------------------------------------------------------------------------------
def test_create_and_list_newest_first(notes_client: TestClient) -> None:
    first = post(notes_client, FOO_ID, {"body": "re-ran ALIGN with more memory"})
    assert (first["author"], first["body"], first["runId"], first["editedAt"], first["history"]) == (
        "alice",
        "re-ran ALIGN with more memory",
        FOO_ID,
        None,
        [],
    )
    second = post(notes_client, "foo-run-001", {"body": "looks good"}, headers=BOB)  # by run name, namespace given
    post(notes_client, BAR_ID, {"body": "another run"})
    page = listing(notes_client, FOO_ID)
    assert [(n["id"], n["author"]) for n in page["items"]] == [(second["id"], "bob"), (first["id"], "alice")]
    assert (page["total"], page["runId"]) == (2, FOO_ID)
    assert [n["body"] for n in listing(notes_client, FOO_ID, limit=1, offset=1)["items"]] == [first["body"]]


def test_the_author_edits_and_the_old_text_is_kept(notes_client: TestClient) -> None:
    note = post(notes_client, FOO_ID, {"body": "v1"})
    url = api_path(RUN_NOTE, run=FOO_ID, note_id=str(note["id"]))
    assert notes_client.put(url, json={"body": "v2"}, headers=ALICE).status_code == 200
    edited = notes_client.put(url, json={"body": "v3"}, headers=ALICE).json()
    assert (edited["body"], edited["createdAt"], edited["author"]) == ("v3", note["createdAt"], "alice")
    assert edited["editedAt"] is not None
    assert [(r["body"], r["author"]) for r in edited["history"]] == [("v2", "alice"), ("v1", "alice")]
    assert edited["history"][1]["writtenAt"] == note["createdAt"]
    assert listing(notes_client, FOO_ID)["items"] == [edited]


def test_someone_else_cannot_edit_a_note(notes_client: TestClient) -> None:
    note = post(notes_client, FOO_ID, {"body": "alice's"})
    response = notes_client.put(
        api_path(RUN_NOTE, run=FOO_ID, note_id=str(note["id"])), json={"body": "bob was here"}, headers=BOB
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "only the note's author (alice) may edit it"}
    assert [(n["body"], n["history"]) for n in listing(notes_client, FOO_ID)["items"]] == [("alice's", [])]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"body": "x" * 10_001}, "a note holds at most 10,000 characters (this one has 10,001)"),
        ({"body": "   \n"}, "a note needs some text"),
        ({"body": ""}, "a note needs some text"),
        ({"body": 42}, "Input should be a valid string"),
        ({"body": "nul\x00"}, "a note cannot contain a NUL character"),
        ({}, "Field required"),
        ({"body": "ok", "author": "mallory"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_bodies_are_refused_readably(notes_client: TestClient, body: dict[str, object], message: str) -> None:
    response = notes_client.post(api_path(RUN_NOTES, run=FOO_ID), json=body, headers=ALICE)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert listing(notes_client, FOO_ID)["total"] == 0


def test_the_longest_note_is_accepted(notes_client: TestClient) -> None:
    assert len(post(notes_client, FOO_ID, {"body": "é" * 10_000})["body"]) == 10_000


def test_unknown_run_or_note_is_404(notes_client: TestClient) -> None:
    missing = "6f1c2a4e-0000-4000-8000-0000000000ff"
    for response in (
        notes_client.get(api_path(RUN_NOTES, run=missing), headers=ALICE),
        notes_client.post(api_path(RUN_NOTES, run=missing), json={"body": "x"}, headers=ALICE),
        notes_client.put(api_path(RUN_NOTE, run=FOO_ID, note_id="999"), json={"body": "x"}, headers=ALICE),
    ):
        assert response.status_code == 404, response.text
        assert "detail" in response.json()
    other = post(notes_client, BAR_ID, {"body": "bar's"})
    response = notes_client.put(
        api_path(RUN_NOTE, run=FOO_ID, note_id=str(other["id"])), json={"body": "x"}, headers=ALICE
    )
    assert response.status_code == 404  # a note is reached through its own run only


def test_writing_needs_a_token(notes_client: TestClient) -> None:
    response = notes_client.post(api_path(RUN_NOTES, run=FOO_ID), json={"body": "x"})
    assert response.status_code == 401
    assert notes_client.get(api_path(RUN_NOTES, run=FOO_ID)).status_code == 401


def test_no_writes_without_an_identity(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(writable=True, auth_mode="none")) as client:
        response = client.post(api_path(RUN_NOTES, run=FOO_ID), json={"body": "who am I?"})
        assert response.status_code == 403
        assert "authentication is off" in response.json()["detail"]
        assert client.get(api_path(RUN_NOTES, run=FOO_ID)).json()["items"] == []


def test_no_writes_without_a_read_write_session(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(auth_mode="token", tokens={TOKEN: "alice"})) as client:
        response = client.post(api_path(RUN_NOTES, run=FOO_ID), json={"body": "x"}, headers=ALICE)
        assert response.status_code == 503
        assert "cannot be written" in response.json()["detail"]


def test_notes_routes_are_documented(notes_client: TestClient) -> None:
    document = notes_client.get("/api/v1/openapi.json").json()
    notes = document["paths"]["/api/v1/runs/{run}/notes"]
    assert {"get", "post"} <= set(notes)
    assert {"403", "404", "422"} <= set(notes["post"]["responses"])
    assert {"403", "404", "422"} <= set(document["paths"]["/api/v1/runs/{run}/notes/{note_id}"]["put"]["responses"])
    body = document["components"]["schemas"]["NoteBody"]["properties"]["body"]
    assert body["maxLength"] == 10_000


# -- the Notes tab ---------------------------------------------------------------------------
def notes_tab(client: TestClient, run: str = FOO_ID) -> str:
    response = client.get(page_path(PAGE_RUN, run=run), params={"tab": "notes"}, headers=ALICE)
    assert response.status_code == 200, response.text
    return response.text


def test_notes_are_shown_escaped_with_author_and_edited_marker(notes_client: TestClient) -> None:
    note = post(notes_client, FOO_ID, {"body": "first text"})
    notes_client.put(api_path(RUN_NOTE, run=FOO_ID, note_id=str(note["id"])), json={"body": XSS}, headers=ALICE)
    page = notes_tab(notes_client)
    assert "<script>alert" not in page
    assert (
        '<div class="note-body">&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;</div>'
        in page
    )
    assert '<strong class="note-author">alice</strong>' in page
    assert 'class="note-edited"' in page
    assert '<div class="note-body">first text</div>' in page  # the earlier text, in the history
    assert 'aria-selected="true">Notes</a>' in page


def test_the_form_adds_a_note_and_comes_back(notes_client: TestClient) -> None:
    page = notes_tab(notes_client)
    assert f'action="{page_path(PAGE_RUN_NOTES, run=FOO_ID)}"' in page
    assert 'id="notes-empty"' in page
    response = notes_client.post(
        page_path(PAGE_RUN_NOTES, run=FOO_ID),
        data={"body": "from the page\r\n<i>markup</i>"},
        headers={**ALICE, "Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/runs/{FOO_ID}?tab=notes#notes-list"
    [note] = listing(notes_client, FOO_ID)["items"]
    assert (note["author"], note["body"]) == ("alice", "from the page\n<i>markup</i>")


def test_the_form_refuses_another_site_and_bad_text(notes_client: TestClient) -> None:
    url = page_path(PAGE_RUN_NOTES, run=FOO_ID)
    response = notes_client.post(url, data={"body": "x"}, headers={**ALICE, "Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "another site" in response.text
    response = notes_client.post(url, data={"body": "x" * 10_001}, headers=ALICE)
    assert response.status_code == 422
    assert "at most 10,000 characters" in response.text
    assert listing(notes_client, FOO_ID)["total"] == 0


def test_the_author_edits_a_note_on_the_page_and_no_one_else_can(notes_client: TestClient) -> None:
    mine = post(notes_client, FOO_ID, {"body": "first text"})
    theirs = post(notes_client, FOO_ID, {"body": "bob's text"}, headers=BOB)
    mine_url = page_path(PAGE_RUN_NOTE, run=FOO_ID, note_id=str(mine["id"]))
    theirs_url = page_path(PAGE_RUN_NOTE, run=FOO_ID, note_id=str(theirs["id"]))
    page = notes_tab(notes_client)
    assert f'action="{mine_url}"' in page
    assert f'action="{theirs_url}"' not in page  # no edit form on a colleague's note

    same_site = {**ALICE, "Origin": "http://testserver"}
    response = notes_client.post(mine_url, data={"body": "second text"}, headers=same_site, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/runs/{FOO_ID}?tab=notes#note-{mine['id']}"
    refused = notes_client.post(theirs_url, data={"body": "not mine"}, headers=same_site)
    assert refused.status_code == 403
    assert "only the note&#39;s author (bob)" in refused.text
    for url, status in (
        (page_path(PAGE_RUN_NOTE, run=FOO_ID, note_id="999999"), 404),
        (page_path(PAGE_RUN_NOTE, run=FOO_ID, note_id="x"), 404),
    ):
        assert notes_client.post(url, data={"body": "x"}, headers=same_site).status_code == status
    assert notes_client.post(mine_url, data={"body": " "}, headers=same_site).status_code == 422
    assert (
        notes_client.post(mine_url, data={"body": "x"}, headers={**ALICE, "Origin": "https://evil.example"}).status_code
        == 403
    )
    by_id = {n["id"]: n for n in listing(notes_client, FOO_ID)["items"]}
    assert (by_id[mine["id"]]["body"], [r["body"] for r in by_id[mine["id"]]["history"]]) == (
        "second text",
        ["first text"],
    )
    assert (by_id[theirs["id"]]["body"], by_id[theirs["id"]]["history"]) == ("bob's text", [])


def test_an_oversized_form_is_refused_before_it_is_read(notes_client: TestClient) -> None:
    response = notes_client.post(
        page_path(PAGE_RUN_NOTES, run=FOO_ID),
        content=b"body=" + b"x" * 200_000,
        headers={**ALICE, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert listing(notes_client, FOO_ID)["total"] == 0


def test_the_form_sends_a_stranger_to_sign_in(notes_client: TestClient) -> None:
    response = notes_client.post(page_path(PAGE_RUN_NOTES, run=FOO_ID), data={"body": "x"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert listing(notes_client, FOO_ID)["total"] == 0


def test_without_authentication_the_tab_has_no_form(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(writable=True, auth_mode="none")) as client:
        page = client.get(page_path(PAGE_RUN, run=FOO_ID), params={"tab": "notes"}).text
        assert 'id="note-form"' not in page
        assert "authentication is off" in page
        response = client.post(page_path(PAGE_RUN_NOTES, run=FOO_ID), data={"body": "x"})
        assert response.status_code == 403
