"""What `tracker outputs job-status` prints for each operation and phase, offline."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from tracker.api import schemas
from tracker.cli.lifecycle import (
    COUNTERS,
    DRY_RUN_COUNTERS,
    describe_active,
    job_record,
    outcome_text,
    progress_text,
    status_text,
)
from tracker.domain.records import JobCounters

JOB_ID = "7f3e0000-0000-4000-8000-000000000001"
RUN_ID = "550e8400-e29b-41d4-a716-446655440000"


def job(operation: str = "delete_outputs", spec: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "tracker.dev/v1alpha1",
        "kind": "OutputLifecycleJob",
        "metadata": {
            "name": "foo-delete-x",
            "namespace": "lab",
            "uid": JOB_ID,
            "creationTimestamp": "2026-05-13T19:02:10Z",
        },
        "spec": {"run": "foo-run-001", "operation": operation, "requestedBy": "alice", **(spec or {})},
        "status": status,
    }


def test_a_finished_delete_prints_exactly_the_documented_lines() -> None:
    body = job(
        jobId=JOB_ID,
        runId=RUN_ID,
        phase="Succeeded",
        reason="Completed",
        message="deleted 1842 objects",
        startedAt="2026-05-13T19:02:11Z",
        completedAt="2026-05-13T19:03:47Z",
        objectsDeleted=1842,
        bytesDeleted=9876543210,
        kubernetesJob="tracker-delete-outputs-7f3e0000",
    )
    assert status_text(job_record(body)) == (
        f"delete_outputs  succeeded  (id={JOB_ID})\n"
        f"run_id: {RUN_ID}\n"
        "started: 2026-05-13T19:02:11Z\n"
        "completed: 2026-05-13T19:03:47Z\n"
        "objects deleted: 1842\n"
        "bytes deleted: 9876543210\n"
    )


def test_an_unfinished_job_shows_its_live_counters() -> None:
    body = job(
        jobId=JOB_ID,
        runId=RUN_ID,
        phase="Running",
        reason="Running",
        startedAt="2026-05-13T19:02:11Z",
        objectsDeleted=12000,
        bytesDeleted=120000,
    )
    assert status_text(job_record(body)) == (
        f"delete_outputs  running  (id={JOB_ID})\n"
        f"run_id: {RUN_ID}\n"
        "started: 2026-05-13T19:02:11Z\n"
        "completed: -\n"
        "objects deleted: 12000\n"
        "bytes deleted: 120000\n"
    )


def test_a_job_not_yet_admitted_is_enqueued_under_its_uid() -> None:
    assert status_text(job_record(job())).splitlines()[:4] == [
        f"delete_outputs  enqueued  (id={JOB_ID})",
        "run_id: -",
        "started: -",
        "completed: -",
    ]


def test_a_refused_job_says_why() -> None:
    body = job(
        "move_outputs",
        {"destination": "s3://archive/foo/"},
        jobId=JOB_ID,
        runId=RUN_ID,
        phase="Failed",
        reason="Forbidden",
        message="'mallory' may not move outputs",
        completedAt="2026-05-13T19:02:11Z",
    )
    assert status_text(job_record(body)).splitlines()[4:] == [
        "objects copied: 0",
        "bytes copied: 0",
        "objects deleted: 0",
        "bytes deleted: 0",
        "rows rewritten: 0",
        "destination: s3://archive/foo/",
        "reason: Forbidden",
        "message: 'mallory' may not move outputs",
    ]


def test_index_and_rewrite_jobs_show_their_own_counters() -> None:
    index = job("index_outputs", jobId=JOB_ID, phase="Succeeded", reason="Completed", objectsIndexed=7)
    assert status_text(job_record(index)).splitlines()[4:] == ["objects indexed: 7"]
    rewrite = job(
        "rewrite_output_paths",
        {"destination": "s3://b2/x/"},
        jobId=JOB_ID,
        phase="Succeeded",
        reason="Completed",
        rowsRewritten=12,
    )
    assert status_text(job_record(rewrite)).splitlines()[4:] == ["rows rewritten: 12", "destination: s3://b2/x/"]
    marked = job(
        "mark_outputs_deleted",
        jobId=JOB_ID,
        phase="Succeeded",
        reason="AlreadyDeleted",
        message="the outputs of run 'foo-run-001' are already marked deleted",
    )
    assert status_text(job_record(marked)).splitlines()[4:] == [
        "rows marked deleted: 0",
        "reason: AlreadyDeleted",
        "message: the outputs of run 'foo-run-001' are already marked deleted",
    ]


def test_progress_line() -> None:
    body = job(jobId=JOB_ID, phase="Running", objectsDeleted=2000, bytesDeleted=3 * 2**20)
    assert progress_text(job_record(body), 12.7) == "delete_outputs running: 2000 objects deleted (3.0 MiB) [12s]"


def test_a_dry_run_shows_what_it_would_change_from_its_counters() -> None:
    body = job(
        spec={"dryRun": True},
        jobId=JOB_ID,
        runId=RUN_ID,
        phase="Succeeded",
        reason="Completed",
        message="prose nobody parses",
        source="s3://b/runs/foo/",
        objectsToDelete=30,
        bytesToDelete=30000,
    )
    record = job_record(body)
    assert status_text(record).splitlines()[4:] == [
        "objects to delete: 30",
        "bytes to delete: 30000",
        "reason: Completed",
        "message: prose nobody parses",
    ]
    assert outcome_text(record) == (
        "dry run: would delete 30 objects (29.3 KiB) under s3://b/runs/foo/; nothing was changed"
    )
    move = job_record(
        job(
            "move_outputs",
            {"dryRun": True, "destination": "s3://a/x/"},
            jobId=JOB_ID,
            phase="Succeeded",
            source="s3://b/runs/foo/",
            objectsToMove=2,
            bytesToMove=33,
        )
    )
    assert outcome_text(move) == (
        "dry run: would move 2 objects (33 B) from s3://b/runs/foo/ to s3://a/x/; nothing was changed"
    )
    real = job_record(job(jobId=JOB_ID, phase="Succeeded", message="deleted 3 objects (30 B) under s3://b/x/"))
    assert outcome_text(real) == "deleted 3 objects (30 B) under s3://b/x/"


def test_the_active_job_a_busy_request_met_is_named_from_its_fields() -> None:
    assert describe_active({"jobId": JOB_ID, "name": "dry", "operation": "delete_outputs", "dryRun": True}) == (
        f"delete_outputs (dry run) job {JOB_ID}"
    )
    assert (
        describe_active({"jobId": JOB_ID, "name": "mv", "operation": "move_outputs", "destination": "s3://a/x/"})
        == f"move_outputs to s3://a/x/ job {JOB_ID}"
    )


def test_every_counter_shown_is_a_job_counter_and_the_api_carries_them_all() -> None:
    names = {f.name for f in fields(JobCounters)}
    shown = {name for table in (COUNTERS, DRY_RUN_COUNTERS) for pairs in table.values() for _, name in pairs}
    assert shown <= names
    assert set(schemas.JobCounters.model_fields) == names
