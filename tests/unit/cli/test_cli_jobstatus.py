"""What `tracker outputs job-status` prints for each operation and phase, offline."""

from __future__ import annotations

from typing import Any

from tracker.cli.lifecycle import (
    active_operation,
    job_record,
    moved_prefixes,
    progress_text,
    rows_from_message,
    status_text,
)

JOB_ID = "7f3e0000-0000-4000-8000-000000000001"
RUN_ID = "550e8400-e29b-41d4-a716-446655440000"


def job(operation: str = "delete_outputs", spec: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    return {"apiVersion": "tracker.dev/v1alpha1", "kind": "OutputLifecycleJob",
            "metadata": {"name": "foo-delete-x", "namespace": "lab", "uid": JOB_ID,
                         "creationTimestamp": "2026-05-13T19:02:10Z"},
            "spec": {"run": "foo-run-001", "operation": operation, "requestedBy": "alice", **(spec or {})},
            "status": status}


def test_a_finished_delete_prints_exactly_the_documented_lines() -> None:
    body = job(jobId=JOB_ID, runId=RUN_ID, phase="Succeeded", reason="Completed", message="deleted 1842 objects",
               startedAt="2026-05-13T19:02:11Z", completedAt="2026-05-13T19:03:47Z",
               objectsDeleted=1842, bytesDeleted=9876543210, kubernetesJob="tracker-delete-outputs-7f3e0000")
    assert status_text(job_record(body)) == (
        f"delete_outputs  succeeded  (id={JOB_ID})\n"
        f"run_id: {RUN_ID}\n"
        "started: 2026-05-13T19:02:11Z\n"
        "completed: 2026-05-13T19:03:47Z\n"
        "objects deleted: 1842\n"
        "bytes deleted: 9876543210\n"
    )


def test_an_unfinished_job_shows_its_live_counters() -> None:
    body = job(jobId=JOB_ID, runId=RUN_ID, phase="Running", reason="Running", startedAt="2026-05-13T19:02:11Z",
               objectsDeleted=12000, bytesDeleted=120000)
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
        f"delete_outputs  enqueued  (id={JOB_ID})", "run_id: -", "started: -", "completed: -"]


def test_a_refused_job_says_why() -> None:
    body = job("move_outputs", {"destination": "s3://archive/foo/"}, jobId=JOB_ID, runId=RUN_ID, phase="Failed",
               reason="Forbidden", message="'mallory' may not move outputs", completedAt="2026-05-13T19:02:11Z")
    assert status_text(job_record(body)).splitlines()[4:] == [
        "objects copied: 0", "bytes copied: 0", "objects deleted: 0", "bytes deleted: 0", "rows rewritten: 0",
        "destination: s3://archive/foo/", "reason: Forbidden", "message: 'mallory' may not move outputs"]


def test_index_and_rewrite_jobs_show_their_own_counters() -> None:
    index = job("index_outputs", jobId=JOB_ID, phase="Succeeded", reason="Completed", objectsIndexed=7)
    assert status_text(job_record(index)).splitlines()[4:] == ["objects indexed: 7"]
    rewrite = job("rewrite_output_paths", {"destination": "s3://b2/x/"}, jobId=JOB_ID, phase="Succeeded",
                  reason="Completed", rowsRewritten=12)
    assert status_text(job_record(rewrite)).splitlines()[4:] == ["rows rewritten: 12", "destination: s3://b2/x/"]
    marked = job("mark_outputs_deleted", jobId=JOB_ID, phase="Succeeded", reason="AlreadyDeleted",
                 message="the outputs of run 'foo-run-001' are already marked deleted")
    assert status_text(job_record(marked)).splitlines()[4:] == [
        "reason: AlreadyDeleted", "message: the outputs of run 'foo-run-001' are already marked deleted"]


def test_progress_line() -> None:
    body = job(jobId=JOB_ID, phase="Running", objectsDeleted=2000, bytesDeleted=3 * 2**20)
    assert progress_text(job_record(body), 12.7) == "delete_outputs running: 2000 objects deleted (3.0 MiB) [12s]"


def test_operator_messages_parsed_for_update_db() -> None:
    assert rows_from_message("12 output rows marked deleted (no S3 call)") == 12
    assert rows_from_message("something else") is None
    assert moved_prefixes("3 output rows rewritten from s3://a/x/ to s3://b/y/") == ("s3://a/x/", "s3://b/y/")


def test_the_operation_of_the_job_a_duplicate_resolved_to() -> None:
    active = job("move_outputs")
    assert active_operation([active], JOB_ID, None) == ("move_outputs", active)
    message = f"delete_outputs for run 'foo' is already running as job {JOB_ID} (first): this request resolves to it"
    assert active_operation([], JOB_ID, message) == ("delete_outputs", None)
    assert active_operation([], JOB_ID, "who knows") == (None, None)
