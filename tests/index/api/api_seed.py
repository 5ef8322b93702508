"""Seed data of the API tests: five runs (one resumed, one stalled, two sharing a run
name, one with deleted outputs), their outputs and four lifecycle jobs, written
through the store's repository functions as the operator and worker write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from tracker.domain.records import (
    JobCounters,
    JobRecord,
    OutputObject,
    ProcessCounts,
    RunRecord,
)
from tracker.store import jobs, outputs, runs
from tracker.store.engine import session_factory

T0 = datetime(2026, 5, 13, 19, 0, 0, tzinfo=UTC)
GIB = 2**30
FOO_ID = "550e8400-e29b-41d4-a716-446655440000"
BAR_ID = "6f1c2a4e-0000-4000-8000-000000000002"
TWIN_A_ID = "6f1c2a4e-0000-4000-8000-00000000000a"
TWIN_B_ID = "6f1c2a4e-0000-4000-8000-00000000000b"
OLD_ID = "6f1c2a4e-0000-4000-8000-000000000001"
JOB_DELETE_OLD = "7f3e0000-0000-4000-8000-000000000001"
JOB_INDEX_FOO = "7f3e0000-0000-4000-8000-000000000002"
JOB_DELETE_FOO = "7f3e0000-0000-4000-8000-000000000003"
JOB_GHOST = "7f3e0000-0000-4000-8000-000000000004"
TOKEN = "s3cr3t-token"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


FOO = RunRecord(
    id=FOO_ID,
    namespace="genomics",
    name="foo-abc12",
    run_name="foo-run-001",
    owner="alice",
    cluster="hpc-east",
    engine="nextflow",
    repository="https://github.com/nf-core/rnaseq",
    revision="3.14",
    commit="abc123def",
    work_dir="s3://work/foo/",
    output_dir="s3://bucket/runs/foo/",
    session_id="sess-2",
    command_line="nextflow run nf-core/rnaseq -name foo-run-001 -resume",
    params={"genome": "GRCh38", "reads": ["a_R1.fq", "a_R2.fq"]},
    config_text="process.executor = 'awsbatch'",
    labels={"team": "rna", "app.kubernetes.io/part-of": "rnaseq"},
    phase="Succeeded",
    state="Succeeded",
    created_at=at(1),
    started_at=at(2),
    completed_at=at(62),
    last_heartbeat_at=at(62),
    peak_concurrency=24,
    cost=3.5,
    conditions=[
        {
            "type": "OutputsIndexed",
            "status": "True",
            "reason": "Indexed",
            "message": "4 objects",
            "lastTransitionTime": "2026-05-13T20:03:00Z",
        }
    ],
    processes=(ProcessCounts("FASTQC", succeeded=4, cached=1), ProcessCounts("ALIGN", succeeded=2, retried=1)),
)
FOO_FIRST_EXECUTION = RunRecord(
    id=FOO_ID,
    namespace="genomics",
    name="foo-abc12",
    run_name="foo-run-001",
    owner="alice",
    cluster="hpc-east",
    output_dir="s3://bucket/runs/foo/",
    session_id="sess-1",
    phase="Failed",
    state="Failed",
    created_at=at(1),
    started_at=T0,
    completed_at=at(1),
    error_message="BWA_MEM exited 137",
    cost=1.25,
)
BAR = RunRecord(
    id=BAR_ID,
    namespace="genomics",
    name="bar-x1",
    run_name="bar-run-002",
    owner="bob",
    cluster="hpc-west",
    labels={"team": "dna"},
    output_dir="s3://bucket/runs/bar/",
    phase="Running",
    state="Stalled",
    created_at=at(2),
    started_at=at(3),
    last_heartbeat_at=at(20),
    conditions=[
        {
            "type": "Stalled",
            "status": "True",
            "reason": "NoActiveTasks",
            "message": "every task terminal for 600s",
            "lastTransitionTime": "2026-05-13T19:20:00Z",
        }
    ],
    processes=(ProcessCounts("CALL", succeeded=3),),
)
TWIN_A = RunRecord(
    id=TWIN_A_ID,
    namespace="lab-a",
    name="twin",
    run_name="twin",
    owner="carol",
    cluster="hpc-east",
    phase="Submitted",
    state="Submitted",
    created_at=at(3),
)
TWIN_B = RunRecord(
    id=TWIN_B_ID,
    namespace="lab-b",
    name="twin",
    run_name="twin",
    owner="carol",
    cluster="hpc-east",
    phase="Running",
    state="Disconnected",
    created_at=at(4),
)
OLD = RunRecord(
    id=OLD_ID,
    namespace="genomics",
    name="old-run",
    run_name="old-run",
    owner="alice",
    cluster="hpc-west",
    output_dir="s3://bucket/runs/old/",
    phase="Succeeded",
    state="Succeeded",
    created_at=T0,
    started_at=T0,
    completed_at=at(30),
)

FOO_OBJECTS = [
    OutputObject("s3://bucket/runs/foo/sample.bam", GIB, at(60), '"e1"', "INTELLIGENT_TIERING"),
    OutputObject("s3://bucket/runs/foo/qc/report.html", 1000, at(60), '"e2"', "STANDARD"),
    OutputObject("s3://bucket/runs/foo/qc/fastqc/a_R1.zip", 500, at(60), '"e3"', "STANDARD"),
    OutputObject("s3://bucket/runs/foo/qc/fastqc/a_R2.zip", 500, at(60), '"e4"', "STANDARD"),
]
OLD_OBJECTS = [
    OutputObject("s3://bucket/runs/old/old.bam", 4096, at(29)),
    OutputObject("s3://bucket/runs/old/logs/trace.txt", 10, at(29)),
]


def job(job_id: str, run: RunRecord | None, operation: str, phase: str, created: datetime, **fields: Any) -> JobRecord:
    return JobRecord(
        id=job_id,
        namespace=run.namespace if run else "genomics",
        name=f"{operation.replace('_', '-')}-{job_id[-4:]}",
        run=run.run_name if run else "ghost",
        run_id=run.id if run else None,
        operation=operation,
        requested_by="alice",
        phase=phase,
        created_at=created,
        **fields,
    )


JOBS = [
    job(
        JOB_DELETE_OLD,
        OLD,
        "delete_outputs",
        "Succeeded",
        at(10),
        started_at=at(10),
        completed_at=at(11),
        counters=JobCounters(objects_deleted=2, bytes_deleted=4106),
        kubernetes_job="tracker-delete-0001",
    ),
    job(
        JOB_INDEX_FOO,
        FOO,
        "index_outputs",
        "Succeeded",
        at(63),
        started_at=at(63),
        completed_at=at(64),
        counters=JobCounters(objects_indexed=4),
    ),
    job(
        JOB_DELETE_FOO,
        FOO,
        "delete_outputs",
        "Running",
        at(70),
        started_at=at(70),
        counters=JobCounters(objects_deleted=1, bytes_deleted=500),
        requested_by_groups=("rna",),
    ),
    job(
        JOB_GHOST,
        None,
        "move_outputs",
        "Failed",
        at(5),
        destination="s3://archive/ghost/",
        reason="RunNotFound",
        message="no run 'ghost'",
    ),
]


def seed(engine: Engine) -> None:
    """Five runs (one resumed, one stalled, two sharing a run name, one with deleted
    outputs), their outputs, and four lifecycle jobs."""
    with session_factory(engine)() as session:
        runs.upsert_run(session, record=FOO_FIRST_EXECUTION)
        for record in (FOO, BAR, TWIN_A, TWIN_B, OLD):
            runs.upsert_run(session, record=record)
        for run_id, objects in ((FOO_ID, FOO_OBJECTS), (OLD_ID, OLD_OBJECTS)):
            outputs.upsert_outputs(session, run_id=run_id, objects=objects, seen_at=at(64))
            outputs.refresh_outputs_summary(session, run_id=run_id, indexed_at=at(64))
        outputs.mark_outputs_deleted(session, run_id=OLD_ID, at=at(11), by="alice")
        for record in JOBS:
            jobs.upsert_job(session, record=record)
        session.commit()
