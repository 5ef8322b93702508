"""Nextflow trace bodies to WorkflowRun fields and task attempts (tracker.domain.nextflow),
on the recorded request sequences and on generated bodies (offsets, nulls, truncations)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fixtures.nextflow_trace import load, requests
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.domain import nextflow, tracevalues
from tracker.domain.records import ProcessCounts
from tracker.domain.tasks import TaskStatus
from tracker.domain.tracevalues import TraceError

RECEIVED = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


def _step(name: str, path: str, nth: int = 0) -> dict:
    return [s["body"] for s in requests(name) if s["path"].endswith(path)][nth]


def test_create_and_begin_fill_the_spec_with_the_s3_output_dir() -> None:
    create, begin = _step("succeeded", "/trace/create"), _step("succeeded", "/begin")
    spec = nextflow.run_spec(create, begin["workflow"])
    assert spec["runName"] == "sad_einstein"
    assert spec["engine"] == "nextflow"
    assert spec["sessionId"] == "4f9a3c1e-8b2d-4e6f-9a0c-1d2e3f4a5b6c"
    assert spec["workflow"] == {
        "repository": "https://github.com/nf-core/rnaseq",
        "revision": "3.14.0",
        "commit": "b89fac32650aacc86fcda9ee77e00612a1d77066",
    }
    assert spec["workDir"] == "s3://lab-scratch/work"
    # workflow.outputDir is a local file:// path; params.outdir is the S3 one, made a prefix
    assert spec["outputDir"] == "s3://lab-results/rnaseq/"
    assert spec["params"]["genome"] == "GRCh38"
    assert "-with-tower" in spec["commandLine"]
    assert "executor = 'awsbatch'" in spec["configText"]
    assert nextflow.run_spec(create) == {
        "runName": "sad_einstein",
        "engine": "nextflow",
        "sessionId": "4f9a3c1e-8b2d-4e6f-9a0c-1d2e3f4a5b6c",
        "workflow": {"repository": "https://github.com/nf-core/rnaseq"},
    }


def test_output_dir_prefers_nextflow_output_dir_when_it_is_s3() -> None:
    assert (
        nextflow.output_dir({"outputDir": "s3://lab/out", "params": {"outdir": "s3://lab/other/"}}) == "s3://lab/out/"
    )
    assert nextflow.output_dir({"outputDir": "file:///x", "params": {"outdir": "results"}}) is None
    assert nextflow.output_dir({"params": {"outdir": "s3://lab/a/../c"}}) is None  # not a usable prefix


def test_begin_is_running_from_the_local_offset_start() -> None:
    status = nextflow.begin_status(_step("succeeded", "/begin"), RECEIVED)
    # 2026-11-30T21:00:00.000+01:00 is 20:00 UTC; instant (epoch ms) is 20:00:02.1
    assert status == {
        "phase": "Running",
        "startedAt": "2026-11-30T20:00:00Z",
        "completedAt": None,
        "errorMessage": None,
        "lastHeartbeatTime": "2026-11-30T20:00:02Z",
    }


def test_progress_counts_keep_retries_out_of_failed() -> None:
    status = nextflow.progress_status(_step("succeeded", "/progress", 1), RECEIVED)
    trim = next(p for p in status["processes"] if p["name"].endswith("TRIMGALORE"))
    assert trim == {
        "name": "NFCORE_RNASEQ:RNASEQ:TRIMGALORE",
        "succeeded": 0,
        "failed": 0,
        "aborted": 0,
        "running": 1,
        "cached": 0,
        "retried": 1,
        "submitted": 1,
        "pending": 0,
    }
    assert status["peakConcurrency"] == 3
    assert set(trim) == {f.name for f in fields(ProcessCounts)}


def test_heartbeat_is_the_instant_but_never_in_the_future() -> None:
    body = _step("succeeded", "/heartbeat")
    assert nextflow.progress_status(body, RECEIVED)["lastHeartbeatTime"] == "2026-11-30T20:05:20Z"
    early = datetime(2026, 11, 30, 20, 1, tzinfo=UTC)
    assert nextflow.progress_status(body, early)["lastHeartbeatTime"] == "2026-11-30T20:01:00Z"
    assert nextflow.progress_status({}, early) == {"lastHeartbeatTime": "2026-11-30T20:01:00Z"}


def test_complete_succeeded_and_failed() -> None:
    done = nextflow.complete_status(_step("succeeded", "/complete"), RECEIVED)
    assert done["phase"] == "Succeeded"
    assert done["errorMessage"] is None
    assert done["completedAt"] == "2026-11-30T20:15:09Z"
    failed = nextflow.complete_status(_step("failed", "/complete"), RECEIVED)
    assert failed["phase"] == "Failed"
    assert failed["completedAt"] == "2026-11-30T20:11:18Z"
    assert failed["errorMessage"].startswith("Process `NFCORE_RNASEQ:RNASEQ:FASTQC (sample_1)` terminated")
    assert "Command exit status:\n  1" in failed["errorMessage"]
    fastqc = failed["processes"][0]
    assert (fastqc["failed"], fastqc["aborted"], fastqc["retried"]) == (1, 1, 0)


def test_task_maps_to_attempts_with_retried_and_cached_apart() -> None:
    first, second = _step("succeeded", "/progress", 0), _step("succeeded", "/progress", 1)
    cached = nextflow.task_record(first["tasks"][0], execution="w1")
    assert cached.status is TaskStatus.CACHED
    assert cached.exit_code == 0
    assert cached.submitted_at == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # the original run's trace
    submitted = nextflow.task_record(first["tasks"][1], execution="w1")
    assert submitted.status is TaskStatus.SUBMITTED
    assert submitted.exit_code is None
    assert submitted.started_at is None
    assert submitted.completed_at is None
    retried = nextflow.task_record(second["tasks"][1], execution="w1")
    assert (retried.task_id, retried.status, retried.exit_code, retried.error_action) == (3, "RETRIED", 137, "RETRY")
    retry = nextflow.task_record(second["tasks"][3], execution="w1")
    assert (retry.task_id, retry.attempt, retry.status, retry.memory_bytes) == (5, 2, "SUBMITTED", 12 * 1024**3)
    done = nextflow.task_record(second["tasks"][0], execution="w1")
    assert (done.hash, done.native_id, done.duration_ms, done.realtime_ms) == (
        "9c/41d0e2",
        "f3e2d1c0-0002",
        240000,
        208800,
    )
    assert (done.cpus, done.time_ms, done.pcpu, done.peak_rss) == (2, 14_400_000, 187.3, 1_610_612_736)
    assert (done.read_bytes, done.write_bytes, done.executor) == (4_294_967_296, 1_073_741_824, "awsbatch")
    assert done.work_dir == "s3://lab-scratch/work/9c/41d0e24e5f60718293a4b5c6d7e8f90"
    assert done.started_at == datetime(2026, 11, 30, 20, 0, 35, tzinfo=UTC)
    truncated = nextflow.task_record(first["tasks"][3], execution="w1")
    assert len(truncated.tag) == 255
    assert len(truncated.name) == 255


def test_every_vector_maps_without_error() -> None:
    for name in ("succeeded", "failed", "resumed", "silent"):
        assert load(name)["description"]
        for step in requests(name):
            body = step["body"]
            nextflow.progress_status(body, RECEIVED)
            for index, task in enumerate(body.get("tasks") or []):
                nextflow.task_record(task, execution="w", index=index)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"workflow": None}, "workflow: expected an object"),
        ({"workflow": {"start": "yesterday"}}, "workflow.start: 'yesterday' is not an ISO 8601 date"),
        ({"workflow": {"start": "2026-11-30T21:00:00"}}, "has no UTC offset"),
    ],
)
def test_malformed_begin_says_which_field(body: dict, message: str) -> None:
    with pytest.raises(TraceError, match=message.replace("(", r"\(")):
        nextflow.begin_status(body, RECEIVED)


@pytest.mark.parametrize(
    ("task", "message"),
    [
        ({"status": "RUNNING"}, r"tasks\[0\].taskId: expected a task number"),
        ({"taskId": 1, "status": "DANCING"}, "unknown task status"),
        ({"taskId": 1, "cpus": "many"}, r"tasks\[0\].cpus: expected a number"),
        ({"taskId": 1, "pcpu": "NaN"}, "not a finite number"),
        ({"taskId": 1, "tag": {"a": 1}}, "expected a string"),
        ({"taskId": 1, "memory": 10**30}, "out of range"),
        ({"taskId": 1, "cpus": 2**40}, r"tasks\[0\].cpus: .* is out of range"),
        ({"taskId": 1, "hash": "a" * 65}, r"tasks\[0\].hash: longer than 64 characters"),
        ({"taskId": 1, "start": "9999-12-31T23:59:59-05:00"}, "is out of range"),
    ],
)
def test_malformed_task_says_which_field(task: dict, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        nextflow.task_record(task, execution="w")


def test_nul_characters_never_reach_the_index() -> None:
    spec = nextflow.run_spec({"runName": "r\x001"}, {"params": {"a\x00": ["x\x00y", {"k": "\x00"}]}})
    assert spec["runName"] == "r1"
    assert spec["params"] == {"a": ["xy", {"k": ""}]}


def test_negative_counts_are_refused() -> None:
    with pytest.raises(TraceError, match=r"progress.processes\[0\].running: a count cannot be negative"):
        nextflow.progress_status({"progress": {"processes": [{"name": "A", "running": -1}]}}, RECEIVED)


# -- properties -------------------------------------------------------------------------
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1), timezones=offsets)
PROPERTY = settings(max_examples=150, deadline=None)


def _java(moment: datetime, digits: int) -> str:
    """OffsetDateTime.toString: `Z` for UTC, seconds and fraction only when non-zero."""
    text = moment.strftime("%Y-%m-%dT%H:%M")
    if moment.second or moment.microsecond or digits:
        text += moment.strftime(":%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}{'000'}"[:digits]
    offset = moment.utcoffset() or timedelta()
    return text + ("Z" if not offset else moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:])


@PROPERTY
@given(moments, st.sampled_from([0, 3, 6, 9]))
def test_dates_in_any_offset_and_precision_are_the_same_instant(moment: datetime, digits: int) -> None:
    moment = moment.replace(
        microsecond=(moment.microsecond // 1000) * 1000 if digits == 3 else 0 if digits == 0 else moment.microsecond
    )
    parsed = tracevalues.parse_time(_java(moment, digits), field="start")
    assert parsed == moment.astimezone(UTC)
    assert parsed.tzinfo is UTC
    millis = int(moment.timestamp() * 1000)
    assert tracevalues.parse_time(millis, field="instant") == datetime.fromtimestamp(millis / 1000, UTC)


counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**6))


@PROPERTY
@given(
    st.fixed_dictionaries(
        dict.fromkeys(
            ("succeeded", "failed", "aborted", "running", "cached", "retries", "submitted", "pending", "ignored"),
            counts,
        )
    ),
    st.text(min_size=1, max_size=255),
)
def test_counts_are_never_negative_and_failed_excludes_retries(raw: dict, name: str) -> None:
    entry = dict(raw, name=name, loadCpus=4, peakMemory=1 << 40, unknownField=[1, 2])
    counts = nextflow.process_counts(entry)
    assert counts.name == (name.replace("\x00", "") or "-")  # NUL cannot be stored
    assert all(getattr(counts, f.name) >= 0 for f in fields(ProcessCounts) if f.name != "name")
    assert counts.retried == (raw["retries"] or 0)
    assert counts.failed == max((raw["failed"] or 0) - (raw["retries"] or 0), 0)


nullable_text = st.one_of(st.none(), st.text(max_size=300))


@PROPERTY
@given(
    st.integers(min_value=0, max_value=2**40),
    st.sampled_from([s.value for s in TaskStatus if s != "RETRIED"]),
    st.one_of(st.none(), st.just("RETRY"), st.just("IGNORE")),
    nullable_text,
    nullable_text,
    st.one_of(st.none(), moments),
    st.one_of(st.none(), st.integers(min_value=-255, max_value=2147483647)),
)
def test_any_task_map_becomes_one_attempt(
    task_id: int,
    status: str,
    action: str | None,
    tag: str | None,
    name: str | None,
    start: datetime | None,
    exit_code: int | None,
) -> None:
    raw = {
        "taskId": task_id,
        "status": status,
        "errorAction": action,
        "tag": tag,
        "name": name,
        "start": _java(start, 3) if start else None,
        "exit": exit_code,
        "futureField": {"x": 1},
    }
    record = nextflow.task_record(raw, execution="abc")
    assert record.task_id == task_id
    assert record.execution == "abc"
    assert record.status == ("RETRIED" if status == "FAILED" and action == "RETRY" else status)
    assert record.exit_code == (None if exit_code == nextflow.UNFINISHED_EXIT else exit_code)
    assert record.tag == (tag.replace("\x00", "") or None if tag else None)
    if start is not None:
        assert abs(record.started_at - start) < timedelta(milliseconds=1)


def test_a_task_keeps_its_machine_type() -> None:
    record = nextflow.task_record({"taskId": 1, "status": "COMPLETED", "machineType": "m5.2xlarge"}, execution="w")
    assert record.machine_type == "m5.2xlarge"
    assert nextflow.task_record({"taskId": 1, "machineType": None}, execution="w").machine_type is None


def test_the_runner_log_file_is_a_fact_about_the_runner() -> None:
    runner_facts = nextflow.runner_facts
    assert runner_facts({"logFile": "s3://lab-scratch/work/logs/nf.log"}) == {
        "logFile": "s3://lab-scratch/work/logs/nf.log"
    }
    assert runner_facts({"logFile": None}) == runner_facts(None) == runner_facts({}) == {}
