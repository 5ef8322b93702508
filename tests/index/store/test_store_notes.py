"""Notes on runs in the index, on both engines: added, listed newest first, edited
with the replaced text kept as a revision (who wrote it and when), per run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.notes import NoteRevision
from tracker.domain.records import RunRecord
from tracker.store import notes

T0 = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def test_notes_are_listed_newest_first(session: Session, add_run: Callable[..., RunRecord]) -> None:
    run, other = add_run(), add_run()
    first = notes.add_note(session, run_id=run.id, author="alice", body="first", at=T0)
    second = notes.add_note(session, run_id=run.id, author="bob", body="second\nline", at=T0 + timedelta(minutes=1))
    notes.add_note(session, run_id=other.id, author="alice", body="elsewhere", at=T0)
    session.commit()
    found, total = notes.list_notes(session, run_id=run.id)
    assert total == 2
    assert [(n.id, n.author, n.body, n.created_at, n.edited_at) for n in found] == [
        (second.id, "bob", "second\nline", T0 + timedelta(minutes=1), None),
        (first.id, "alice", "first", T0, None),
    ]
    page, total = notes.list_notes(session, run_id=run.id, limit=1, offset=1)
    assert ([n.body for n in page], total) == (["first"], 2)
    assert notes.list_notes(session, run_id="no-such-run") == ([], 0)


def test_an_edit_keeps_the_replaced_text(
    factory: sessionmaker[Session], session: Session, add_run: Callable[..., RunRecord]
) -> None:
    run = add_run()
    session.commit()
    with factory.begin() as session:
        note = notes.add_note(session, run_id=run.id, author="alice", body="v1", at=T0)
    with factory.begin() as session:
        notes.edit_note(session, run_id=run.id, note_id=note.id, body="v2", at=T0 + timedelta(hours=1))
    with factory.begin() as session:
        edited = notes.edit_note(session, run_id=run.id, note_id=note.id, body="v3", at=T0 + timedelta(hours=2))
    assert edited is not None
    assert (edited.body, edited.created_at, edited.edited_at) == ("v3", T0, T0 + timedelta(hours=2))
    assert edited.history == (
        NoteRevision(body="v2", author="alice", written_at=T0 + timedelta(hours=1)),
        NoteRevision(body="v1", author="alice", written_at=T0),
    )
    with factory() as session:
        assert notes.get_note(session, run_id=run.id, note_id=note.id) == edited
        assert notes.list_notes(session, run_id=run.id)[0] == [edited]


def test_an_unchanged_text_is_not_an_edit(session: Session, add_run: Callable[..., RunRecord]) -> None:
    run = add_run()
    note = notes.add_note(session, run_id=run.id, author="alice", body="same", at=T0)
    again = notes.edit_note(session, run_id=run.id, note_id=note.id, body="same", at=T0 + timedelta(hours=1))
    assert again == note


def test_a_note_belongs_to_its_run(session: Session, add_run: Callable[..., RunRecord]) -> None:
    run, other = add_run(), add_run()
    note = notes.add_note(session, run_id=run.id, author="alice", body="mine", at=T0)
    assert notes.get_note(session, run_id=other.id, note_id=note.id) is None
    assert notes.edit_note(session, run_id=other.id, note_id=note.id, body="theirs") is None
    assert notes.get_note(session, run_id=run.id, note_id=note.id + 1000) is None
    assert notes.get_note(session, run_id=run.id, note_id=note.id).body == "mine"  # type: ignore[union-attr]


def test_a_note_needs_an_indexed_run(session: Session) -> None:
    with pytest.raises(IntegrityError):
        notes.add_note(session, run_id="6f1c1b7e-0000-4000-8000-00000000dead", author="alice", body="orphan")


def test_a_long_note_with_any_characters_is_kept_exactly(session: Session, add_run: Callable[..., RunRecord]) -> None:
    run = add_run()
    body = ("<script>alert('x')</script> ünïcødé ✓ 🧬 \t\n" * 250)[:10_000]
    note = notes.add_note(session, run_id=run.id, author="system:serviceaccount:lab:ci", body=body)
    session.commit()
    assert notes.get_note(session, run_id=run.id, note_id=note.id).body == body  # type: ignore[union-attr]
