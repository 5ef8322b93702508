"""Runs in the index: upsert and read back, lookup by id or run name, resume
history, filtered and sorted listings, and the outputs summary."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from tracker.domain.records import OutputObject, OutputsSummary, Phase, ProcessCounts, RunRecord
from tracker.store import outputs, runs
from tracker.store.errors import AmbiguousRun, DuplicateRunName, RunNotFound

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)
AddRun = Callable[..., RunRecord]


def full_record() -> RunRecord:
    return RunRecord(
        id="550e8400-e29b-41d4-a716-446655440000",
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
        session_id="sess-1",
        command_line="nextflow run nf-core/rnaseq -name foo-run-001",
        params={"genome": "GRCh38", "reads": ["a_R1.fq", "a_R2.fq"], "depth": {"min": 10}},
        config_text="process.executor = 'awsbatch'",
        labels={"team": "rna", "app.kubernetes.io/part-of": "x"},
        phase="Running",
        state="Stalled",
        created_at=T0,
        started_at=T0 + timedelta(minutes=1),
        completed_at=None,
        last_heartbeat_at=T0 + timedelta(minutes=5),
        error_message=None,
        peak_concurrency=42,
        cost=12.375,
        conditions=[
            {
                "type": "Stalled",
                "status": "True",
                "reason": "NoActiveTasks",
                "message": "m",
                "lastTransitionTime": "2026-05-13T19:10:00Z",
            }
        ],
        processes=(
            ProcessCounts("FASTQC", succeeded=4, cached=1),
            ProcessCounts("ALIGN", running=2, pending=3),
            ProcessCounts("CALL", failed=1, retried=1, aborted=1, submitted=5),
        ),
    )


def test_every_field_round_trips(session: Session) -> None:
    record = full_record()
    runs.upsert_run(session, record=record)
    assert runs.get_run(session, ref=record.id) == record
    assert runs.get_run(session, ref="foo-run-001") == record
    assert runs.get_run(session, ref="foo-run-001", namespace="genomics") == record
    assert runs.get_run(session, ref="foo-run-001", namespace="other") is None
    assert runs.get_run(session, ref=record.id, namespace="other") is None
    assert runs.get_run(session, ref="no-such-run") is None


def test_enum_phases_are_stored_as_their_values(session: Session, add_run: AddRun) -> None:
    record = add_run(phase=Phase.SUCCEEDED, state=Phase.SUCCEEDED)
    found = runs.get_run(session, ref=record.id)
    assert found is not None
    assert (found.phase, found.state) == ("Succeeded", "Succeeded")
    assert runs.list_runs(session, state="Succeeded")[1] == 1


def test_upsert_replaces_fields_and_processes_but_keeps_created_at_and_outputs(session: Session) -> None:
    record = full_record()
    runs.upsert_run(session, record=record)
    outputs.upsert_outputs(session, run_id=record.id, objects=[OutputObject(f"s3://b/r/{i}", 100) for i in range(3)])
    summary = outputs.refresh_outputs_summary(session, run_id=record.id, indexed_at=T0)
    assert summary == OutputsSummary(count=3, bytes=300, indexed_at=T0)
    updated = dataclasses.replace(
        record,
        created_at=None,
        phase="Succeeded",
        state="Succeeded",
        labels={},
        completed_at=T0 + timedelta(hours=1),
        processes=(ProcessCounts("ALIGN", succeeded=9),),
    )
    runs.upsert_run(session, record=updated)
    found = runs.get_run(session, ref=record.id)
    assert found == dataclasses.replace(updated, created_at=T0)
    assert runs.outputs_summary(session, run_id=record.id) == summary


def test_a_progress_report_moves_liveness_forward_only_and_replaces_processes(session: Session) -> None:
    record = full_record()
    runs.upsert_run(session, record=record)
    later = record.last_heartbeat_at + timedelta(minutes=1)  # type: ignore[operator]
    counts = (ProcessCounts("FASTQC", succeeded=5, cached=1), ProcessCounts("ALIGN", running=1, succeeded=1))
    assert runs.report_progress(
        session, run_id=record.id, last_heartbeat_at=later, peak_concurrency=50, processes=counts
    )
    expected = dataclasses.replace(record, last_heartbeat_at=later, peak_concurrency=50, processes=counts)
    assert runs.get_run(session, ref=record.id) == expected
    # an older report (a retried call) never moves liveness back; processes as reported
    assert runs.report_progress(
        session, run_id=record.id, last_heartbeat_at=record.last_heartbeat_at, processes=counts[:1]
    )
    assert runs.get_run(session, ref=record.id) == dataclasses.replace(expected, processes=counts[:1])
    assert not runs.report_progress(session, run_id="no-such-run", last_heartbeat_at=later)


def test_a_run_name_is_unique_per_namespace(session: Session, add_run: AddRun) -> None:
    first = add_run(namespace="a", run_name="sad_einstein")
    with pytest.raises(DuplicateRunName, match="'sad_einstein' is already used in namespace 'a'"):
        add_run(namespace="a", run_name="sad_einstein")
    add_run(namespace="b", run_name="sad_einstein")
    with pytest.raises(AmbiguousRun, match=r"several namespaces \(a, b\)") as raised:
        runs.get_run(session, ref="sad_einstein")
    assert raised.value.namespaces == ("a", "b")
    assert runs.get_run(session, ref="sad_einstein", namespace="a") == first
    assert runs.get_run(session, ref=first.id) == first  # an id is never ambiguous


def test_a_run_name_is_free_again_once_its_run_is_removed(session: Session, add_run: AddRun) -> None:
    old = add_run(namespace="a", run_name="again", output_dir="s3://b/again/")
    assert runs.mark_run_removed(session, run_id=old.id, at=T0)
    assert not runs.mark_run_removed(session, run_id=old.id, at=T0)  # already removed
    assert not runs.mark_run_removed(session, run_id="nope", at=T0)
    assert runs.get_run(session, ref="again", namespace="a") == old  # the only run of that name
    new = add_run(namespace="a", run_name="again", output_dir="s3://b/again/")  # a new id: no DuplicateRunName
    assert new.id != old.id
    assert runs.get_run(session, ref=old.id) == old
    assert runs.get_run(session, ref=new.id) == new
    assert runs.get_run(session, ref="again", namespace="a") == new  # a name picks the live run
    assert runs.get_run(session, ref="again") == new
    with pytest.raises(DuplicateRunName):  # two live runs still may not share it
        add_run(namespace="a", run_name="again")
    assert runs.list_runs(session, name_contains="again")[1] == 2  # both stay listed

    runs.mark_run_removed(session, run_id=new.id, at=T0)
    with pytest.raises(AmbiguousRun, match=r"used by several runs, since deleted, in namespace a") as raised:
        runs.get_run(session, ref="again", namespace="a")
    assert set(raised.value.ids) == {old.id, new.id}
    assert raised.value.namespaces == ("a",)
    runs.upsert_run(session, record=new)  # the resource came back (same id): live again
    assert runs.get_run(session, ref="again") == new


def test_a_live_run_wins_over_a_removed_one_in_another_namespace(session: Session, add_run: AddRun) -> None:
    gone = add_run(namespace="a", run_name="twin")
    live = add_run(namespace="b", run_name="twin")
    runs.mark_run_removed(session, run_id=gone.id, at=T0)
    assert runs.get_run(session, ref="twin") == live
    assert runs.get_run(session, ref="twin", namespace="a") == gone


def test_a_resumed_run_keeps_its_previous_executions(session: Session, add_run: AddRun) -> None:
    first = add_run(
        session_id="s1",
        phase="Failed",
        started_at=T0,
        completed_at=T0 + timedelta(minutes=30),
        error_message="exit 137",
        cost=1.5,
    )
    second = dataclasses.replace(
        first, phase="Running", started_at=T0 + timedelta(hours=1), completed_at=None, error_message=None, cost=None
    )
    runs.upsert_run(session, record=second)
    runs.upsert_run(session, record=dataclasses.replace(second, last_heartbeat_at=T0 + timedelta(hours=1)))
    history = runs.run_executions(session, run_id=first.id)
    assert [(h.phase, h.started_at, h.completed_at, h.error_message, h.cost, h.session_id) for h in history] == [
        ("Failed", T0, T0 + timedelta(minutes=30), "exit 137", 1.5, "s1")
    ]

    third = dataclasses.replace(second, phase="Succeeded", started_at=T0 + timedelta(hours=2))
    runs.upsert_run(session, record=dataclasses.replace(second, phase="Aborted"))
    runs.upsert_run(session, record=third)
    runs.upsert_run(session, record=third)
    history = runs.run_executions(session, run_id=first.id)
    assert [(h.phase, h.started_at) for h in history] == [
        ("Aborted", T0 + timedelta(hours=1)),
        ("Failed", T0),
    ]  # newest first
    assert runs.get_run(session, ref=first.id).started_at == T0 + timedelta(hours=2)  # type: ignore[union-attr]


def test_a_stale_older_start_is_not_recorded_as_an_execution(session: Session, add_run: AddRun) -> None:
    record = add_run(started_at=T0 + timedelta(hours=1))
    runs.upsert_run(session, record=dataclasses.replace(record, started_at=T0))
    runs.upsert_run(session, record=dataclasses.replace(record, started_at=None))
    assert runs.run_executions(session, run_id=record.id) == []


def names(result: tuple[list[RunRecord], int]) -> list[str]:
    return [r.run_name for r in result[0]]


def test_list_filters(session: Session, add_run: AddRun) -> None:
    add_run(run_name="a-1", owner="alice", cluster="east", state="Running", labels={"team": "rna"})
    add_run(run_name="b-2", owner="bob", cluster="west", state="Failed", labels={"team": "dna", "tier": "x"})
    add_run(
        run_name="c_3%",
        name="special",
        owner="alice",
        cluster="west",
        state="Stalled",
        namespace="lab",
        labels={"team": "dna"},
    )
    assert names(runs.list_runs(session, sort="run_name")) == ["a-1", "b-2", "c_3%"]
    assert names(runs.list_runs(session, owner="alice", sort="run_name")) == ["a-1", "c_3%"]
    assert names(runs.list_runs(session, cluster="west", sort="run_name")) == ["b-2", "c_3%"]
    assert names(runs.list_runs(session, state="Failed")) == ["b-2"]
    assert names(runs.list_runs(session, state=["Failed", "Stalled"], sort="run_name")) == ["b-2", "c_3%"]
    assert names(runs.list_runs(session, label={"team": "dna"}, sort="run_name")) == ["b-2", "c_3%"]
    assert names(runs.list_runs(session, label={"team": "dna", "tier": "x"})) == ["b-2"]
    assert names(runs.list_runs(session, label={"team": "none"})) == []
    assert names(runs.list_runs(session, namespace="lab")) == ["c_3%"]
    assert names(runs.list_runs(session, name_contains="B-")) == ["b-2"]
    assert names(runs.list_runs(session, name_contains="_3%")) == ["c_3%"]
    assert names(runs.list_runs(session, name_contains="%")) == ["c_3%"]  # literal, not a wildcard
    assert names(runs.list_runs(session, name_contains="ECIA")) == ["c_3%"]  # metadata.name too
    assert names(runs.list_runs(session, owner="alice", cluster="east", state="Running")) == ["a-1"]


def test_list_time_range_sort_and_pages(session: Session, add_run: AddRun) -> None:
    for i in range(5):
        add_run(run_name=f"r{i}", created_at=T0 + timedelta(days=i), cost=None if i == 2 else float(i))
    assert names(runs.list_runs(session)) == ["r4", "r3", "r2", "r1", "r0"]  # newest first
    assert names(runs.list_runs(session, sort="created_at")) == ["r0", "r1", "r2", "r3", "r4"]
    window = runs.list_runs(session, created_after=T0 + timedelta(days=1), created_before=T0 + timedelta(days=3))
    assert names(window) == ["r2", "r1"]
    assert names(runs.list_runs(session, sort="cost")) == ["r0", "r1", "r3", "r4", "r2"]  # no cost: last
    assert names(runs.list_runs(session, sort="-cost")) == ["r4", "r3", "r1", "r0", "r2"]
    page, total = runs.list_runs(session, sort="run_name", limit=2, offset=2)
    assert ([r.run_name for r in page], total) == (["r2", "r3"], 5)
    assert runs.list_runs(session, limit=0) == ([], 5)


def test_list_rejects_unknown_sort_keys_and_bad_labels(session: Session) -> None:
    with pytest.raises(ValueError, match=r"cannot sort by 'password': use one of created_at, .*descending"):
        runs.list_runs(session, sort="password")
    with pytest.raises(ValueError, match="invalid label key"):
        runs.list_runs(session, label={'bad"key': "x"})
    with pytest.raises(ValueError, match="must not be negative"):
        runs.list_runs(session, offset=-1)


def test_outputs_summary(session: Session, add_run: AddRun) -> None:
    one, two = add_run(), add_run()
    assert runs.outputs_summary(session, run_id=one.id) == OutputsSummary()
    outputs.upsert_outputs(session, run_id=two.id, objects=[OutputObject("s3://b/x", 10)])
    outputs.refresh_outputs_summary(session, run_id=two.id, indexed_at=T0)
    outputs.mark_outputs_deleted(session, run_id=two.id, at=T0, by="bob")
    summary = OutputsSummary(count=0, bytes=0, indexed_at=T0, deleted_at=T0, deleted_by="bob")
    assert runs.outputs_summaries(session, run_ids=[one.id, two.id, "nope"]) == {
        one.id: OutputsSummary(),
        two.id: summary,
    }
    with pytest.raises(RunNotFound):
        runs.outputs_summary(session, run_id="nope")
