"""Notes on runs: add, edit (the replaced text becomes a revision), get and list,
newest first, each with its history. Authorization is the caller's
(`tracker.domain.notes.may_edit`); the caller owns the transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.domain.notes import NoteRecord, NoteRevision
from tracker.store.models import Note
from tracker.store.models import NoteRevision as Revision
from tracker.store.types import utcnow


def add_note(session: Session, *, run_id: str, author: str, body: str, at: datetime | None = None) -> NoteRecord:
    """A new note on the run `run_id` (which must be indexed)."""
    note = Note(run_id=run_id, author=author, body=body, created_at=at or utcnow())
    session.add(note)
    session.flush()
    return _record(note, ())


def edit_note(
    session: Session, *, run_id: str, note_id: int, body: str, at: datetime | None = None
) -> NoteRecord | None:
    """Replace the note's text, keeping the old one as a revision (an unchanged text
    is not an edit); None when the run has no such note."""
    note = session.scalar(select(Note).where(Note.id == note_id, Note.run_id == run_id).with_for_update())
    if note is None:
        return None
    if note.body != body:
        session.add(
            Revision(note_id=note.id, body=note.body, author=note.author, written_at=note.edited_at or note.created_at)
        )
        note.body, note.edited_at = body, at or utcnow()
        session.flush()
    return _records(session, [note])[0]


def get_note(session: Session, *, run_id: str, note_id: int) -> NoteRecord | None:
    note = session.scalar(select(Note).where(Note.id == note_id, Note.run_id == run_id))
    return _records(session, [note])[0] if note is not None else None


def list_notes(session: Session, *, run_id: str, limit: int = 100, offset: int = 0) -> tuple[list[NoteRecord], int]:
    """A page of the run's notes, newest first, and how many it has."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must not be negative")
    total = session.scalar(select(func.count()).select_from(Note).where(Note.run_id == run_id))
    page = session.scalars(
        select(Note)
        .where(Note.run_id == run_id)
        .order_by(Note.created_at.desc(), Note.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return _records(session, page), total or 0


def _records(session: Session, notes: Sequence[Note]) -> list[NoteRecord]:
    """The notes with their revisions (one query for all), newest revision first."""
    history: dict[int, list[NoteRevision]] = defaultdict(list)
    if notes:
        rows = session.scalars(
            select(Revision)
            .where(Revision.note_id.in_([n.id for n in notes]))
            .order_by(Revision.written_at.desc(), Revision.id.desc())
        )
        for row in rows:
            history[row.note_id].append(NoteRevision(body=row.body, author=row.author, written_at=row.written_at))
    return [_record(note, tuple(history[note.id])) for note in notes]


def _record(note: Note, history: tuple[NoteRevision, ...]) -> NoteRecord:
    return NoteRecord(
        id=note.id,
        run_id=note.run_id,
        author=note.author,
        body=note.body,
        created_at=note.created_at,
        edited_at=note.edited_at,
        history=history,
    )
