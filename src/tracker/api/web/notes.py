"""The Notes tab: its data (the run's notes, and the add-note form for a signed-in
user) and `POST /runs/{run}/notes`, the form's target, which adds the note as the
API does (same rules, same store function) and sends the browser back to the tab.

The form is read by hand (`application/x-www-form-urlencoded`), as the login form
is. A POST from another origin is refused; the cookie is SameSite=Strict as well.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

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
from tracker.domain.notes import MAX_NOTE_CHARS, note_problem
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
        action = paths.page_path(paths.PAGE_RUN_NOTES, run=run.id)
        form = {"action": action, "author": current_user(request).name, "max_chars": MAX_NOTE_CHARS}
    return {"notes": page, "note_form": form, "note_readonly_reason": reason}


@router.post(paths.PAGE_RUN_NOTES, response_class=HTMLResponse)
async def add_note(request: Request, run: str) -> Response:
    if not guard.same_origin(request):
        return error_page(request, 403, "Refused", "a note sent from another site is refused")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return error_page(request, 413, "Too large", f"a note holds at most {MAX_NOTE_CHARS:,} characters")
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=10)
    text = (form.get("body") or [""])[0].replace("\r\n", "\n")
    return await run_in_threadpool(_add, request, run, text)


def _add(request: Request, run: str, text: str) -> Response:
    sessions = notes_api.writer(request)  # 403 with authentication off, 503 without write sessions
    problem = note_problem(text)
    if problem is not None:
        return error_page(request, 422, "Note not added", problem)
    with request.app.state.sessions() as session:
        record = runs_api.resolve_run(session, run, None)
    with sessions.begin() as write:
        notes.add_note(write, run_id=record.id, author=current_user(request).name, body=text)
    return RedirectResponse(paths.page_path(paths.PAGE_RUN, run=record.id) + "?tab=notes#notes-list", status_code=303)
