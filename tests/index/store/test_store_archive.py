"""The archiver's candidate query and marks, on both engines: which runs are due (the
rule of `tracker.domain.archive`, checked against it), oldest first, in bounded
batches, never one with an active lifecycle job; archived runs stay findable by name
and id and are told apart from runs a user deleted."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tracker.domain.archive import is_due
from tracker.domain.records import JobPhase, JobRecord, RunRecord
from tracker.store import archive, jobs, runs

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
WEEK = 7 * 24 * 3600


def _job(run: RunRecord, phase: JobPhase, operation: str = "delete_outputs") -> JobRecord:
    return JobRecord(
        id=str(uuid.uuid4()),
        namespace=run.namespace,
        name=f"olj-{uuid.uuid4().hex[:8]}",
        run=run.run_name,
        run_id=run.id,
        operation=operation,  # type: ignore[arg-type]
        requested_by="alice",
        phase=phase,
        created_at=T0,
    )


def test_candidates_are_the_due_runs_oldest_first(session: Session, add_run: Callable[..., RunRecord]) -> None:
    old = NOW - timedelta(days=10)
    due_early = add_run(phase="Succeeded", state="Succeeded", completed_at=old - timedelta(hours=1))
    due_late = add_run(phase="Failed", state="Failed", completed_at=old)
    aborted = add_run(phase="Aborted", state="Aborted", completed_at=old + timedelta(hours=1))
    add_run(phase="Succeeded", state="Succeeded", completed_at=NOW - timedelta(days=1))  # too recent
    add_run(phase="Running", state="Running", completed_at=old)  # not terminal
    add_run(phase="Running", state="Disconnected")
    busy = add_run(phase="Succeeded", state="Succeeded", completed_at=old)
    jobs.upsert_job(session, record=_job(busy, JobPhase.RUNNING))
    indexing = add_run(phase="Succeeded", state="Succeeded", completed_at=old)
    jobs.upsert_job(session, record=_job(indexing, JobPhase.ENQUEUED, "index_outputs"))
    finished_job = add_run(phase="Succeeded", state="Succeeded", completed_at=old + timedelta(hours=2))
    jobs.upsert_job(session, record=_job(finished_job, JobPhase.SUCCEEDED))
    deleted = add_run(phase="Succeeded", state="Succeeded", completed_at=old)
    runs.mark_run_removed(session, run_id=deleted.id, at=NOW - timedelta(days=2))
    session.commit()

    found = archive.candidates(session, now=NOW, after_seconds=WEEK, limit=100)

    assert [c.id for c in found] == [due_early.id, due_late.id, aborted.id, finished_job.id]
    assert found[0].namespace == "default"
    assert found[0].name == due_early.name
    assert found[0].run_name == due_early.run_name


def test_candidates_agree_with_the_domain_rule(session: Session, add_run: Callable[..., RunRecord]) -> None:
    records = []
    for i, phase in enumerate(["Submitted", "Running", "Succeeded", "Failed", "Aborted"] * 4):
        completed = NOW - timedelta(days=i % 9, hours=i)
        records.append(add_run(phase=phase, state=phase, completed_at=completed))
    session.commit()
    expected = {
        r.id for r in records if is_due(phase=r.phase, finished_at=r.completed_at, now=NOW, after_seconds=3 * 24 * 3600)
    }
    found = archive.candidates(session, now=NOW, after_seconds=3 * 24 * 3600, limit=1000)
    assert {c.id for c in found} == expected
    assert expected  # the mix holds due runs and others
    assert len(expected) < len(records)


def test_a_terminal_run_without_completion_time_ages_from_its_last_update(
    session: Session, add_run: Callable[..., RunRecord]
) -> None:
    run = add_run(phase="Succeeded", state="Succeeded", completed_at=None)
    session.commit()
    assert archive.candidates(session, now=NOW, after_seconds=WEEK, limit=10) == []  # updated just now
    later = NOW + timedelta(days=365 * 10)
    assert [c.id for c in archive.candidates(session, now=later, after_seconds=WEEK, limit=10)] == [run.id]


def test_batches_are_bounded_and_exclusions_move_on(session: Session, add_run: Callable[..., RunRecord]) -> None:
    made = [
        add_run(phase="Succeeded", state="Succeeded", completed_at=NOW - timedelta(days=20, minutes=i))
        for i in range(7)
    ]
    session.commit()
    oldest_first = [r.id for r in reversed(made)]
    first = archive.candidates(session, now=NOW, after_seconds=WEEK, limit=3)
    assert [c.id for c in first] == oldest_first[:3]
    second = archive.candidates(session, now=NOW, after_seconds=WEEK, limit=3, exclude=[c.id for c in first])
    assert [c.id for c in second] == oldest_first[3:6]


def test_off_means_no_candidates(session: Session, add_run: Callable[..., RunRecord]) -> None:
    add_run(phase="Succeeded", state="Succeeded", completed_at=NOW - timedelta(days=400))
    session.commit()
    assert archive.candidates(session, now=NOW, after_seconds=0, limit=10) == []


def test_archived_runs_leave_the_candidates_and_stay_findable(
    session: Session, add_run: Callable[..., RunRecord]
) -> None:
    run = add_run(phase="Succeeded", state="Succeeded", completed_at=NOW - timedelta(days=20))
    deleted = add_run(phase="Succeeded", state="Succeeded", completed_at=NOW - timedelta(days=20))
    runs.mark_run_removed(session, run_id=deleted.id, at=NOW)
    first_mark = NOW - timedelta(minutes=5)
    assert archive.mark_archived(session, run_ids=[run.id], at=first_mark) == 1
    assert archive.mark_archived(session, run_ids=[run.id], at=NOW) == 0  # idempotent: the first time stays
    assert archive.mark_removed(session, run_ids=[run.id], at=NOW) == 1
    assert archive.mark_removed(session, run_ids=[run.id], at=NOW) == 0
    session.commit()

    assert archive.candidates(session, now=NOW, after_seconds=WEEK, limit=10) == []
    by_name = runs.get_run(session, ref=run.run_name)
    by_id = runs.get_run(session, ref=run.id)
    assert by_name is not None
    assert by_id is not None
    assert by_name.id == run.id
    assert by_name.archived_at is not None
    assert abs(by_id.archived_at - first_mark) < timedelta(seconds=1)  # type: ignore[operator]
    user_deleted = runs.get_run(session, ref=deleted.id)
    assert user_deleted is not None
    assert user_deleted.archived_at is None

    archived, total = runs.list_runs(session, archived=True)
    assert [r.id for r in archived] == [run.id]
    assert total == 1
    others, _ = runs.list_runs(session, archived=False)
    assert run.id not in {r.id for r in others}
    assert deleted.id in {r.id for r in others}
    both, _ = runs.list_runs(session)
    assert {run.id, deleted.id} <= {r.id for r in both}


def test_a_mirror_write_after_archiving_keeps_the_archive_mark(
    session: Session, add_run: Callable[..., RunRecord]
) -> None:
    """The resource's last events (deletion in progress) may still be mirrored."""
    run = add_run(phase="Succeeded", state="Succeeded", completed_at=NOW - timedelta(days=20))
    archive.mark_archived(session, run_ids=[run.id], at=NOW)
    runs.upsert_run(session, record=run)
    session.commit()
    again = runs.get_run(session, ref=run.id)
    assert again is not None
    assert again.archived_at is not None


def test_a_run_that_resumes_is_no_longer_archived(session: Session, add_run: Callable[..., RunRecord]) -> None:
    """An index-only run (reported through the trace receiver) archived, then resumed."""
    run = add_run(phase="Succeeded", state="Succeeded", completed_at=NOW - timedelta(days=20))
    archive.mark_archived(session, run_ids=[run.id], at=NOW)
    archive.mark_removed(session, run_ids=[run.id], at=NOW)
    runs.upsert_run(session, record=dataclasses.replace(run, phase="Running", state="Running"))
    session.commit()
    again = runs.get_run(session, ref=run.id)
    assert again is not None
    assert again.archived_at is None
    assert [r.id for r in runs.list_runs(session, archived=False)[0]] == [run.id]
