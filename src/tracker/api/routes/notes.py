"""`/runs/{run}/notes`: freeform notes on a run. Anyone who may read the run reads
its notes (newest first, each with its earlier texts); writing needs a signed-in
user (never with authentication off: there is no one to name as the author), and
only a note's author edits it. Writes go through the app's read-write sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session, sessionmaker

from tracker.api import errors, paths, schemas
from tracker.api.deps import CurrentUser, Limit, Namespace, Offset, SessionDep
from tracker.api.routes.runs import RunRef, resolve_run
from tracker.domain.notes import NoteRecord, may_edit
from tracker.store import notes

router = APIRouter(prefix=paths.API, tags=["notes"])

NoteId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the note's id")]
NO_IDENTITY = "notes need a signed-in author, and authentication is off on this server (auth_mode: none)"
READ_ONLY = "this server has no read-write index session: notes cannot be written here"


def writer(request: Request) -> sessionmaker[Session]:
    """The read-write sessions, once the caller may write notes at all."""
    if request.app.state.authenticator is None:
        raise errors.Forbidden(NO_IDENTITY)
    sessions: sessionmaker[Session] | None = getattr(request.app.state, "write_sessions", None)
    if sessions is None:
        raise errors.Unavailable(READ_ONLY)
    return sessions


@router.get(paths.RUN_NOTES, response_model=schemas.NotePage, responses=errors.responses(404, 409, 422))
def list_notes(
    run: RunRef, session: SessionDep, namespace: Namespace = None, limit: Limit = 100, offset: Offset = 0
) -> schemas.NotePage:
    """The run's notes, newest first, each with its earlier texts (newest first)."""
    record = resolve_run(session, run, namespace)
    found, total = notes.list_notes(session, run_id=record.id, limit=limit, offset=offset)
    return schemas.NotePage(
        run_id=record.id, items=[note_view(n) for n in found], total=total, limit=limit, offset=offset
    )


@router.post(
    paths.RUN_NOTES,
    status_code=201,
    response_model=schemas.Note,
    responses=errors.responses(400, 403, 404, 409, 422),
)
def add_note(
    run: RunRef,
    note: schemas.NoteBody,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    namespace: Namespace = None,
) -> schemas.Note:
    """A new note on the run; its author is the signed-in user (403 with authentication off)."""
    sessions = writer(request)
    record = resolve_run(session, run, namespace)
    with sessions.begin() as write:
        return note_view(notes.add_note(write, run_id=record.id, author=user.name, body=note.body))


@router.put(paths.RUN_NOTE, response_model=schemas.Note, responses=errors.responses(400, 403, 404, 409, 422))
def edit_note(
    run: RunRef,
    note_id: NoteId,
    note: schemas.NoteBody,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    namespace: Namespace = None,
) -> schemas.Note:
    """Replace a note's text (its author only, else 403); the old text is kept in its history."""
    sessions = writer(request)
    record = resolve_run(session, run, namespace)
    found = notes.get_note(session, run_id=record.id, note_id=note_id)
    if found is None:
        raise errors.NotFound(f"run {record.run_name!r} has no note {note_id}")
    if not may_edit(found, user.name):
        raise errors.Forbidden(f"only the note's author ({found.author}) may edit it")
    with sessions.begin() as write:
        edited = notes.edit_note(write, run_id=record.id, note_id=note_id, body=note.body)
    if edited is None:
        raise errors.NotFound(f"run {record.run_name!r} has no note {note_id}")
    return note_view(edited)


def note_view(note: NoteRecord) -> schemas.Note:
    return schemas.Note(
        id=note.id,
        run_id=note.run_id,
        author=note.author,
        body=note.body,
        created_at=note.created_at,
        edited_at=note.edited_at,
        history=[schemas.NoteRevision(body=r.body, author=r.author, written_at=r.written_at) for r in note.history],
    )
