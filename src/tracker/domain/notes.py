"""Notes on a run: freeform text written by a signed-in user. A note keeps its author
and time; an edit (by its author only) keeps the text it replaces as a revision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MAX_NOTE_CHARS = 10_000
# What `note_problem` accepts, as a pattern for the API's schema: some non-space text, no NUL.
NOTE_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


@dataclass(frozen=True)
class NoteRevision:
    """A previous text of a note: what it said, who wrote it and when."""

    body: str
    author: str
    written_at: datetime


@dataclass(frozen=True)
class NoteRecord:
    id: int
    run_id: str
    author: str
    body: str
    created_at: datetime
    edited_at: datetime | None = None  # when the current text replaced an earlier one
    history: tuple[NoteRevision, ...] = ()  # earlier texts, newest first


def note_problem(body: str) -> str | None:
    """Why `body` cannot be a note's text, or None when it can."""
    if not body.strip():
        return "a note needs some text"
    if len(body) > MAX_NOTE_CHARS:
        return f"a note holds at most {MAX_NOTE_CHARS:,} characters (this one has {len(body):,})"
    if "\x00" in body:
        return "a note cannot contain a NUL character"
    return None


def may_edit(note: NoteRecord, user_name: str) -> bool:
    """Only a note's author edits it."""
    return note.author == user_name
