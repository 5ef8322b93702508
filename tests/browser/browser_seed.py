"""Seed data of the browser tests: the API tests' index (`index.api.api_seed`: five
runs, one with deleted outputs, two sharing a run name) plus a richly reported
Nextflow run, a Disconnected and a Stalled run whose conditions and state are
derived the way the operator derives them (`tracker.domain.runhealth`), a Failed run
resumed twice whose error message holds markup, and a batch of runs to paginate; the
rich run's task attempts (a cached one, a retried one), all written through the
store's repository functions; and a large Running run of about 2,000 attempts for
the Task Timeline, reported through the API's own trace receiver
(`report_timeline_run`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
from index.api.api_seed import GIB, OLD_ID, T0, at
from index.api.api_seed import seed as seed_api_index
from sqlalchemy import Engine

from tracker.domain import tracebodies
from tracker.domain.records import OutputObject, Phase, ProcessCounts, RunRecord
from tracker.domain.runhealth import RunSignals, assess
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.store import outputs, runs, tasks
from tracker.store.engine import session_factory

RICH_ID = "9a000000-0000-4000-8000-000000000001"
DISCONNECTED_ID = "9a000000-0000-4000-8000-000000000002"
STALLED_ID = "9a000000-0000-4000-8000-000000000003"
FAILED_ID = "9a000000-0000-4000-8000-000000000004"
DELETED_ID = OLD_ID  # api_seed's old-run: outputs deleted by alice
BATCH = 26  # with the nine other runs: two pages of 25
BATCH_OWNER, BATCH_CLUSTER = "dave", "hpc-batch"
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'
NOW = at(240)  # when the operator last looked at the supervised runs

RICH_PROCESSES = (
    ProcessCounts("NFCORE_RNASEQ:RNASEQ:FASTQC", succeeded=12, cached=4),
    ProcessCounts("NFCORE_RNASEQ:RNASEQ:ALIGN_STAR:STAR_ALIGN", succeeded=6, failed=1, retried=1),
    ProcessCounts("NFCORE_RNASEQ:RNASEQ:QUANTIFY:SALMON_QUANT", succeeded=3, aborted=2),
    ProcessCounts("NFCORE_RNASEQ:MULTIQC", succeeded=1, submitted=0),
    ProcessCounts("NFCORE_RNASEQ:RNASEQ:TRIMGALORE", succeeded=9, cached=9, retried=3),
)
RICH_TASKS = (
    TaskRecord(
        "e1",
        1,
        TaskStatus.CACHED,
        name="FASTQC (sample_1)",
        process="NFCORE_RNASEQ:RNASEQ:FASTQC",
        exit_code=0,
        duration_ms=95_000,
    ),
    TaskRecord(
        "e1",
        2,
        TaskStatus.RETRIED,
        name="STAR_ALIGN (sample_1)",
        process="NFCORE_RNASEQ:RNASEQ:ALIGN_STAR:STAR_ALIGN",
        exit_code=137,
        duration_ms=3_723_000,
    ),
    TaskRecord(
        "e1",
        3,
        TaskStatus.COMPLETED,
        name="STAR_ALIGN (sample_1)",
        process="NFCORE_RNASEQ:RNASEQ:ALIGN_STAR:STAR_ALIGN",
        attempt=2,
        exit_code=0,
        duration_ms=4_980_000,
    ),
    TaskRecord("e1", 4, TaskStatus.RUNNING, name="MULTIQC", process="NFCORE_RNASEQ:MULTIQC"),
)
RICH = RunRecord(
    id=RICH_ID,
    namespace="genomics",
    name="rnaseq-full-7x2k",
    run_name="rnaseq-full",
    owner="erin",
    cluster="hpc-east",
    engine="nextflow",
    repository="https://github.com/nf-core/rnaseq.git",
    revision="3.14.0",
    commit="5f2b9c1e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c",
    work_dir="s3://work/rnaseq-full/",
    output_dir="s3://bucket/runs/rnaseq-full/",
    session_id="c0ffee00-1111-4222-8333-444455556666",
    command_line="nextflow run nf-core/rnaseq -r 3.14.0 -name rnaseq-full -profile awsbatch",
    params={"genome": "GRCh38", "input": "s3://bucket/samplesheet.csv", "note": "<b>not bold</b>"},
    config_text="process {\n  executor = 'awsbatch'\n  queue = 'spot'\n}",
    labels={"team": "rna"},
    phase="Succeeded",
    state="Succeeded",
    created_at=at(100),
    started_at=at(101),
    completed_at=at(101) + timedelta(hours=2, minutes=5),
    last_heartbeat_at=at(226),
    peak_concurrency=48,
    cost=12.345,
    processes=RICH_PROCESSES,
)
RICH_OBJECTS = [
    OutputObject("s3://bucket/runs/rnaseq-full/star/sample1.bam", 3 * GIB, at(220), '"r1"', "INTELLIGENT_TIERING"),
    OutputObject("s3://bucket/runs/rnaseq-full/star/sample2.bam", 2 * GIB, at(220), '"r2"', "INTELLIGENT_TIERING"),
    OutputObject("s3://bucket/runs/rnaseq-full/multiqc/multiqc_report.html", 2_500_000, at(225), '"r3"', "STANDARD"),
    OutputObject("s3://bucket/runs/rnaseq-full/pipeline_info/trace.txt", 40_000, at(226), '"r4"', "STANDARD"),
]


def supervised(record: RunRecord, *, tasks_terminal_since: datetime | None = None) -> RunRecord:
    """`record` with the state and conditions the operator derives at NOW."""
    signals = RunSignals(
        phase=Phase(record.phase) if record.phase else None,
        created_at=record.created_at or T0,
        last_heartbeat=record.last_heartbeat_at,
        processes=record.processes,
        tasks_terminal_since=tasks_terminal_since,
        heartbeat_timeout=timedelta(seconds=300),
        stalled_after=timedelta(seconds=600),
    )
    health = assess(signals, NOW)
    return replace(record, state=health.state, conditions=health.conditions([], NOW, signals))


DISCONNECTED = supervised(
    RunRecord(
        id=DISCONNECTED_ID,
        namespace="genomics",
        name="lost-runner-k2",
        run_name="lost-runner",
        owner="frank",
        cluster="hpc-west",
        engine="nextflow",
        repository="https://gitlab.com/lab/variant-calling",
        revision="main",
        commit="0123abcd",
        output_dir="s3://bucket/runs/lost-runner/",
        phase="Running",
        created_at=at(150),
        started_at=at(151),
        last_heartbeat_at=at(200),
        processes=(ProcessCounts("CALLING:GATK_HAPLOTYPECALLER", succeeded=10, running=4, submitted=2),),
    )
)
STALLED = supervised(
    RunRecord(
        id=STALLED_ID,
        namespace="genomics",
        name="hanging-run-q9",
        run_name="hanging-run",
        owner="frank",
        cluster="hpc-west",
        engine="nextflow",
        output_dir="s3://bucket/runs/hanging/",
        phase="Running",
        created_at=at(160),
        started_at=at(161),
        last_heartbeat_at=at(239),
        processes=(ProcessCounts("MAIN:ASSEMBLE", succeeded=7), ProcessCounts("MAIN:POLISH", succeeded=7)),
    ),
    tasks_terminal_since=at(200),
)
FAILED_FIRST = RunRecord(
    id=FAILED_ID,
    namespace="genomics",
    name="broken-run-z1",
    run_name="broken-run",
    owner="alice",
    cluster="hpc-east",
    engine="nextflow",
    output_dir="s3://bucket/runs/broken/",
    session_id="sess-broken",
    phase="Failed",
    state="Failed",
    created_at=at(170),
    started_at=at(171),
    completed_at=at(175),
    error_message="Process `ALIGN` terminated with an error exit status (137)",
    cost=0.8,
)
FAILED_SECOND = replace(
    FAILED_FIRST,
    started_at=at(180),
    completed_at=at(190),
    error_message="Process `ALIGN` terminated with an error exit status (1)",
    cost=1.1,
)
FAILED = replace(
    FAILED_FIRST,
    started_at=at(200),
    completed_at=at(212),
    cost=1.9,
    error_message=f"Error executing process > 'NFCORE:ALIGN (sample1)'\n\nCaused by:\n  {XSS}\n\nCommand exit status:\n  1",
    processes=(ProcessCounts("NFCORE:ALIGN", succeeded=2, failed=1),),
)


def batch_run(index: int) -> RunRecord:
    return RunRecord(
        id=f"9b000000-0000-4000-8000-{index:012d}",
        namespace="batch",
        name=f"batch-{index:03d}",
        run_name=f"batch-{index:03d}",
        owner=BATCH_OWNER,
        cluster=BATCH_CLUSTER,
        engine="wdl",
        phase="Succeeded",
        state="Succeeded",
        created_at=at(300 + index),
        started_at=at(300 + index),
        completed_at=at(310 + index),
        cost=0.25 * index,
    )


def seed(engine: Engine) -> None:
    """The API tests' index, then the runs above."""
    seed_api_index(engine)
    with session_factory(engine)() as session:
        for record in (RICH, DISCONNECTED, STALLED, FAILED_FIRST, FAILED_SECOND, FAILED):
            runs.upsert_run(session, record=record)  # the failed run's resumes become its history
        for index in range(1, BATCH + 1):
            runs.upsert_run(session, record=batch_run(index))
        outputs.upsert_outputs(session, run_id=RICH_ID, objects=RICH_OBJECTS, seen_at=at(230))
        outputs.refresh_outputs_summary(session, run_id=RICH_ID, indexed_at=at(230))
        tasks.upsert_tasks(session, run_id=RICH_ID, tasks=RICH_TASKS)
        session.commit()


# Long but realistic values, for the runs list at laptop width: a descriptive run name, an OIDC
# e-mail and a service-account user as owners, long namespaces and cluster names.
LONG_NAMES = (
    (
        "genomics-core-facility-production",
        "rnaseq-GRCh38-full-cohort-2026-05-13-batch-0042-reprocessed-star-2.7.11b",
        "alexandra.konstantinopoulou@genomics-institute.example.org",
        "hpc-eu-central-1-gpu-a100-production",
        "Disconnected",
    ),
    (
        "structural-biology-cryo-em",
        "wgs_germline_deepvariant_trio_HG002_HG003_HG004_30x_novaseq_x_plus",
        "system:serviceaccount:structural-biology-cryo-em:nextflow-runner",
        "aws-batch-us-east-1-spot-fleet-genomics",
        "Succeeded",
    ),
    ("lab", "sad_einstein", "bob", None, "Running"),
)


def seed_long_names(engine: Engine) -> None:
    """Runs whose names, owners, namespaces and clusters are long (see LONG_NAMES)."""
    with session_factory(engine)() as session:
        for index, (namespace, run_name, owner, cluster, state) in enumerate(LONG_NAMES, start=1):
            runs.upsert_run(
                session,
                record=RunRecord(
                    id=f"9c000000-0000-4000-8000-{index:012d}",
                    namespace=namespace,
                    name=f"run-{index:04d}-x7k2q",
                    run_name=run_name,
                    owner=owner,
                    cluster=cluster,
                    engine="nextflow",
                    phase="Running" if state != "Succeeded" else "Succeeded",
                    state=state,
                    created_at=at(400 + index),
                    started_at=at(400 + index),
                    completed_at=at(5000 + index),
                    cost=12345.67 * index,
                ),
            )
        session.commit()


# A large run for the Task Timeline: 2,000 executed attempts in eight processes over
# about three hours (every 25th failed and retried, every 97th aborted, the last ones
# still running) and 100 cached ones.
TIMELINE_ID = "9d000000-0000-4000-8000-000000000001"
TIMELINE_PROCESSES = (
    *(
        f"NFCORE_SAREK:SAREK:{name}"
        for name in (
            "FASTP",
            "BWAMEM2",
            "MARKDUPLICATES",
            "BASERECALIBRATOR",
            "APPLYBQSR",
            "HAPLOTYPECALLER",
            "MOSDEPTH",
        )
    ),
    "NFCORE_SAREK:MULTIQC",
)
TIMELINE_EXECUTED, TIMELINE_CACHED = 2_000, 100
TIMELINE_RUN = RunRecord(
    id=TIMELINE_ID,
    namespace="genomics",
    name="sarek-cohort-2k",
    run_name="sarek-cohort",
    owner="erin",
    cluster="hpc-east",
    engine="nextflow",
    output_dir="s3://bucket/runs/sarek-cohort/",
    phase="Running",
    state="Running",
    created_at=at(0),
    started_at=at(0),
    last_heartbeat_at=at(200),
)


def timeline_tasks() -> list[TaskRecord]:
    found = []
    for index in range(TIMELINE_EXECUTED):
        process = TIMELINE_PROCESSES[index * len(TIMELINE_PROCESSES) // TIMELINE_EXECUTED]
        submitted = at(index * 0.09)
        started = submitted + timedelta(seconds=5 + index % 40)
        running = index >= TIMELINE_EXECUTED - 30
        status = (
            TaskStatus.RUNNING
            if running
            else TaskStatus.RETRIED
            if index % 25 == 0
            else TaskStatus.ABORTED
            if index % 97 == 0
            else TaskStatus.COMPLETED
        )
        found.append(
            TaskRecord(
                "e1",
                index + 1,
                status,
                name=f"{process.rsplit(':', 1)[-1]} (sample_{index:04d})",
                process=process,
                attempt=2 if index % 25 == 1 else 1,
                submitted_at=submitted,
                started_at=started,
                completed_at=None if running else started + timedelta(minutes=2 + index % 17),
            )
        )
    for index in range(TIMELINE_CACHED):
        found.append(
            TaskRecord(
                "e1",
                TIMELINE_EXECUTED + index + 1,
                TaskStatus.CACHED,
                name=f"FASTP (cached_{index:03d})",
                process=TIMELINE_PROCESSES[0],
            )
        )
    return found


def report_timeline_run(api_url: str, token: str) -> None:
    """The large run above, reported as a runner reports it: create, begin, its
    attempts in progress calls of 100 and a last heartbeat, through the API's trace
    receiver over HTTP (the run stays Running)."""
    attempts = timeline_tasks()
    run = TIMELINE_RUN
    with httpx.Client(
        base_url=f"{api_url}/tower/trace", timeout=30, headers={"Authorization": f"Bearer {token}"}
    ) as http:

        def send(method: str, path: str, body: dict[str, Any]) -> httpx.Response:
            answer = http.request(method, path, json=body)
            assert answer.is_success, answer.text
            return answer

        created = send("POST", "/create", tracebodies.create(
            run_name=run.run_name, session_id=TIMELINE_ID, engine="nextflow", instant=run.created_at))  # fmt: skip
        workflow_id = created.json()["workflowId"]
        send("PUT", f"/{workflow_id}/begin", tracebodies.begin(
            run_name=run.run_name, session_id=TIMELINE_ID, engine="nextflow", started=run.created_at,
            instant=run.created_at, output_dir=run.output_dir))  # fmt: skip
        for start in range(0, len(attempts), 100):  # the most a progress call carries
            batch = attempts[start : start + 100]
            send("PUT", f"/{workflow_id}/progress", tracebodies.progress(
                tasks=batch, processes=(), peak_running=None, instant=run.created_at))  # fmt: skip
        send("PUT", f"/{workflow_id}/heartbeat", tracebodies.heartbeat(instant=run.last_heartbeat_at or run.created_at))
