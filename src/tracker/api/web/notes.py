"""The Notes tab: its data (the run's notes, the add-note form for a signed-in user,
an edit form on each of that user's own notes) and the forms' targets,
`POST /runs/{run}/notes` and `POST /runs/{run}/notes/{note_id}`, which add or edit
the note as the API does (same rules, same store functions) and send the browser
back to the tab.

The forms are read by hand (`application/x-www-form-urlencoded`), as the login form
is, and refused unread when their declared length is over the limit. A POST from
another origin is refused; the cookie is SameSite=Strict as well.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tracker.api import paths, schemas
from tracker.api.deps import current_user
from tracker.api.routes import notes as notes_api
from tracker.api.routes import runs as runs_api
from tracker.api.web import guard
from tracker.api.web.rendering import PageRoute, error_page
from tracker.domain.notes import MAX_NOTE_CHARS, may_edit, note_problem
from tracker.store import notes

router = APIRouter(route_class=PageRoute, include_in_schema=False, dependencies=[Depends(guard.page_user)])

NOTES_SHOWN = 100
MAX_FORM_BYTES = 16 * MAX_NOTE_CHARS  # percent-encoded UTF-8 of the longest note, with room to spare


def tab_context(request: Request, session: Session, run: schemas.RunDetail) -> dict[str, Any]:
    """What run/notes.html needs: the notes, and the form or why there is none."""
    found, total = notes.list_notes(session, run_id=run.id, limit=NOTES_SHOWN)
    page = schemas.NotePage(
        run_id=run.id, items=[notes_api.note_view(n) for n in found], total=total, limit=NOTES_SHOWN, offset=0
    )
    form, reason = None, None
    if request.app.state.authenticator is None:
        reason = "Notes are written by signed-in users; authentication is off on this server."
    elif getattr(request.app.state, "write_sessions", None) is None:
        reason = "This server cannot write to the index: notes are read-only here."
    else:
        author = current_user(request).name
        form = {
            "action": paths.page_path(paths.PAGE_RUN_NOTES, run=run.id),
            "author": author,
            "max_chars": MAX_NOTE_CHARS,
            "edit_actions": {
                n.id: paths.page_path(paths.PAGE_RUN_NOTE, run=run.id, note_id=str(n.id))
                for n in found
                if may_edit(n, author)
            },
        }
    return {"notes": page, "note_form": form, "note_readonly_reason": reason}


async def _note_text(request: Request) -> str | Response:
    """The form's `body` field, or the error page that refuses the request."""
    if not guard.same_origin(request):
        return error_page(request, 403, "Refused", "a note sent from another site is refused")
    try:
        form = await guard.small_form(request, MAX_FORM_BYTES)
    except guard.FormTooLarge:
        return error_page(request, 413, "Too large", f"a note holds at most {MAX_NOTE_CHARS:,} characters")
    return form.get("body", "").replace("\r\n", "\n")


@router.post(paths.PAGE_RUN_NOTES, response_class=HTMLResponse)
async def add_note(request: Request, run: str) -> Response:
    text = await _note_text(request)
    return text if isinstance(text, Response) else await run_in_threadpool(_add, request, run, text)


@router.post(paths.PAGE_RUN_NOTE, response_class=HTMLResponse)
async def edit_note(request: Request, run: str, note_id: str) -> Response:
    if not note_id.isdigit() or not 1 <= int(note_id) < 2**63:
        return error_page(request, 404, "Not found", f"run {run!r} has no note {note_id!r}")
    text = await _note_text(request)
    return text if isinstance(text, Response) else await run_in_threadpool(_edit, request, run, int(note_id), text)


def _add(request: Request, run: str, text: str) -> Response:
    sessions = notes_api.writer(request)  # 403 with authentication off, 503 without write sessions
    problem = note_problem(text)
    if problem is not None:
        return error_page(request, 422, "Note not added", problem)
    with request.app.state.sessions() as session:
        record = runs_api.resolve_run(session, run, None)
    with sessions.begin() as write:
        notes.add_note(write, run_id=record.id, author=current_user(request).name, body=text)
    return _back_to_notes(record.id)


def _edit(request: Request, run: str, note_id: int, text: str) -> Response:
    sessions = notes_api.writer(request)
    problem = note_problem(text)
    if problem is not None:
        return error_page(request, 422, "Note not saved", problem)
    with request.app.state.sessions() as session:
        record = runs_api.resolve_run(session, run, None)
        found = notes.get_note(session, run_id=record.id, note_id=note_id)
    if found is None:
        return error_page(request, 404, "Not found", f"run {record.run_name!r} has no note {note_id}")
    if not may_edit(found, current_user(request).name):
        return error_page(request, 403, "Refused", f"only the note's author ({found.author}) may edit it")
    with sessions.begin() as write:
        notes.edit_note(write, run_id=record.id, note_id=note_id, body=text)
    return _back_to_notes(record.id, f"note-{note_id}")


def _back_to_notes(run_id: str, anchor: str = "notes-list") -> Response:
    return RedirectResponse(paths.page_path(paths.PAGE_RUN, run=run_id) + f"?tab=notes#{anchor}", status_code=303)
