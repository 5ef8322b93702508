"""The trace bodies the WDL reporters send (tracker.domain.tracebodies) read back by the
receiver's mapping (tracker.domain.nextflow) as what was sent: attempts round-trip,
counts keep their meaning, and the engine travels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain import nextflow, tracebodies
from tracker.domain.records import ProcessCounts
from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.domain.tracevalues import TraceError

NOW = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
CRD = Path(__file__).resolve().parents[2] / "crds" / "workflowruns.tracker.dev.yaml"

words = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), min_size=1, max_size=40)
moments = st.integers(0, 4_000_000_000_000).map(lambda ms: datetime.fromtimestamp(ms / 1000, UTC))
int64 = st.integers(0, 2**62)
small = st.integers(0, 2**31 - 1)
counts = st.integers(0, 2**30)  # failed + retried is sent as one 32-bit count


@st.composite
def attempts(draw: st.DrawFn) -> TaskRecord:
    status = draw(st.sampled_from(TaskStatus))
    optional = {
        "name": words,
        "process": words,
        "tag": words,
        "hash": st.text("0123456789abcdef/", min_size=1, max_size=64),
        "native_id": words,
        "submitted_at": moments,
        "started_at": moments,
        "completed_at": moments,
        "duration_ms": int64,
        "realtime_ms": int64,
        "cpus": small,
        "memory_bytes": int64,
        "time_ms": int64,
        "pcpu": st.floats(0, 6400, allow_nan=False),
        "peak_rss": int64,
        "read_bytes": int64,
        "write_bytes": int64,
        "exit_code": st.integers(-255, 255),
        "work_dir": words,
        "executor": st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=64),
        "machine_type": st.text("abcdefghijklmnopqrstuvwxyz0123456789.-", min_size=1, max_size=64),
    }
    values = {name: draw(st.none() | strategy) for name, strategy in optional.items()}
    action = "RETRY" if status is TaskStatus.RETRIED else draw(st.none() | st.sampled_from(["TERMINATE", "IGNORE"]))
    return TaskRecord(
        execution="wf-1",
        task_id=draw(small),
        status=status,
        attempt=draw(st.integers(1, 10)),
        error_action=action,
        **values,
    )


@given(attempts())
def test_an_attempt_reads_back_as_it_was_sent(record: TaskRecord) -> None:
    assert nextflow.task_record(tracebodies.trace_task(record), execution="wf-1") == record


@given(st.lists(st.builds(ProcessCounts, name=words, **dict.fromkeys(nextflow.COUNT_FIELDS, counts)), max_size=5))
def test_process_counts_read_back_as_they_were_sent(processes: list[ProcessCounts]) -> None:
    body = tracebodies.progress(tasks=[], processes=processes, peak_running=3, instant=NOW)
    status = nextflow.progress_status(body, NOW)
    assert [ProcessCounts(**p) for p in status["processes"]] == processes
    assert status["peakConcurrency"] == 3


def test_a_wdl_run_is_created_begun_and_completed_as_wdl() -> None:
    create = tracebodies.create(run_name="hello", session_id="s-1", engine="wdl", instant=NOW)
    begin = tracebodies.begin(
        run_name="hello",
        session_id="s-1",
        engine="wdl",
        started=NOW - timedelta(seconds=5),
        instant=NOW,
        params={"hello.who": "world"},
        output_dir="s3://bucket/runs/hello",
    )
    spec = nextflow.run_spec(create, begin["workflow"])
    assert (spec["engine"], spec["runName"], spec["params"], spec["outputDir"]) == (
        "wdl",
        "hello",
        {"hello.who": "world"},
        "s3://bucket/runs/hello/",
    )
    assert nextflow.begin_status(begin, NOW)["startedAt"] == "2026-12-01T22:59:55Z"
    done = tracebodies.complete(
        success=False, completed=NOW, processes=[], instant=NOW, error_message="task hello.say failed"
    )
    status = nextflow.complete_status(done, NOW)
    assert (status["phase"], status["errorMessage"]) == ("Failed", "task hello.say failed")
    canceled = tracebodies.complete(success=False, aborted=True, completed=NOW, processes=[], instant=NOW)
    assert nextflow.complete_status(canceled, NOW)["phase"] == "Aborted"


def test_engines_are_the_resources_engines() -> None:
    crd = yaml.safe_load(CRD.read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert tuple(spec["engine"]["enum"]) == nextflow.ENGINES
    with pytest.raises(TraceError, match="engine: expected one of nextflow, wdl, other"):
        nextflow.run_spec({"runName": "r", "engine": "snakemake"})
