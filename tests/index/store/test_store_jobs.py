"""Lifecycle job history: round trip, live counter updates, listings, and the one
active mutating job per run."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tracker.domain.records import JobCounters, JobPhase, JobRecord, Operation
from tracker.store import jobs

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)


def job(job_id: str, **fields: object) -> JobRecord:
    base: dict[str, object] = {
        "id": job_id,
        "namespace": "genomics",
        "name": f"olj-{job_id}",
        "run": "foo-run-001",
        "run_id": "run-1",
        "operation": "delete_outputs",
        "requested_by": "alice",
        "created_at": T0,
    }
    return JobRecord(**{**base, **fields})  # type: ignore[arg-type]


def test_every_field_round_trips_and_updates_in_place(session: Session) -> None:
    record = job(
        "7f3e0000-0000-4000-8000-000000000001",
        operation=Operation.MOVE_OUTPUTS,
        destination="s3://new-bucket/archive/foo-run-001/",
        requested_by_groups=("admins", "rna"),
        dry_run=True,
        phase=JobPhase.RUNNING,
        reason="Copying",
        message="copying 3 of 9",
        started_at=T0 + timedelta(seconds=5),
        kubernetes_job="tracker-move-outputs-7f3e",
        counters=JobCounters(objects_copied=3, bytes_copied=3_000_000_000_000),
    )
    jobs.upsert_job(session, record=record)
    found = jobs.get_job(session, job_id=record.id)
    assert found == record
    assert found is not None
    assert type(found.phase) is str
    assert found.operation == "move_outputs"

    done = dataclasses.replace(
        record,
        phase="Succeeded",
        reason="Moved",
        completed_at=T0 + timedelta(minutes=2),
        created_at=None,
        counters=JobCounters(objects_copied=9, bytes_copied=9, objects_deleted=9, bytes_deleted=9, rows_rewritten=9),
    )
    jobs.upsert_job(session, record=done)
    assert jobs.get_job(session, job_id=record.id) == dataclasses.replace(done, created_at=T0)
    assert jobs.get_job(session, job_id="nope") is None


def test_list_filters_newest_first_with_total(session: Session) -> None:
    for i, (run_id, operation, phase) in enumerate(
        [
            ("run-1", "delete_outputs", "Succeeded"),
            ("run-1", "index_outputs", "Running"),
            ("run-2", "delete_outputs", "Failed"),
            ("run-2", "move_outputs", "Enqueued"),
        ]
    ):
        jobs.upsert_job(
            session,
            record=job(f"j{i}", run_id=run_id, operation=operation, phase=phase, created_at=T0 + timedelta(minutes=i)),
        )

    def ids(result: tuple[list[JobRecord], int]) -> tuple[list[str], int]:
        return [j.id for j in result[0]], result[1]

    assert ids(jobs.list_jobs(session)) == (["j3", "j2", "j1", "j0"], 4)
    assert ids(jobs.list_jobs(session, run_id="run-1")) == (["j1", "j0"], 2)
    assert ids(jobs.list_jobs(session, operation="delete_outputs")) == (["j2", "j0"], 2)
    assert ids(jobs.list_jobs(session, phase="Enqueued")) == (["j3"], 1)
    assert ids(jobs.list_jobs(session, limit=1, offset=1)) == (["j2"], 4)
    assert ids(jobs.list_jobs(session, namespace="other")) == ([], 0)
    with pytest.raises(ValueError, match="must not be negative"):
        jobs.list_jobs(session, limit=-1)


def test_active_mutating_job_is_the_oldest_enqueued_or_running_one(session: Session) -> None:
    assert jobs.active_mutating_job(session, run_id="run-1") is None
    jobs.upsert_job(session, record=job("index", operation="index_outputs", phase="Running"))
    jobs.upsert_job(session, record=job("old", phase="Succeeded", created_at=T0 - timedelta(days=1)))
    jobs.upsert_job(session, record=job("other-run", run_id="run-2", phase="Running"))
    assert jobs.active_mutating_job(session, run_id="run-1") is None  # indexing does not count
    jobs.upsert_job(
        session,
        record=job("second", operation="rewrite_output_paths", phase="Enqueued", created_at=T0 + timedelta(seconds=2)),
    )
    jobs.upsert_job(session, record=job("first", phase="Running", created_at=T0 + timedelta(seconds=1)))
    assert jobs.active_mutating_job(session, run_id="run-1").id == "first"  # type: ignore[union-attr]
    jobs.upsert_job(session, record=job("first", phase="Failed", created_at=T0 + timedelta(seconds=1)))
    assert jobs.active_mutating_job(session, run_id="run-1").id == "second"  # type: ignore[union-attr]


def test_filters_accept_enum_members(session: Session) -> None:
    jobs.upsert_job(session, record=job("j", operation=Operation.INDEX_OUTPUTS, phase=JobPhase.RUNNING))
    found = jobs.list_jobs(session, phase=JobPhase.RUNNING, operation=Operation.INDEX_OUTPUTS)
    assert [j.id for j in found[0]] == ["j"]
