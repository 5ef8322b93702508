"""The local demo's runs and reports, offline: each run's first report puts it on the
way to its state by the operator's own rule (`tracker.domain.runhealth`), with the
operator's default thresholds."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from localcluster import demo
from tracker.domain.conditions import parse_time
from tracker.domain.records import ProcessCounts
from tracker.domain.runhealth import RunSignals, all_tasks_terminal, assess
from tracker.kube import convert
from tracker.settings import ThresholdSettings

NOW = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)


def body(run: demo.DemoRun, status: demo.Status) -> dict[str, object]:
    manifest = run.manifest()
    manifest["metadata"]["creationTimestamp"] = "2026-05-13T19:00:00Z"
    return {**manifest, "status": status}


def signals(run: demo.DemoRun, status: demo.Status, tasks_terminal_since: datetime | None = None) -> RunSignals:
    """What the operator reads from the run, with the moment it saw every task terminal."""
    found = convert.run_signals(body(run, status), ThresholdSettings())
    return dataclasses.replace(found, tasks_terminal_since=tasks_terminal_since)


def test_the_demo_has_one_run_per_state_with_unique_names() -> None:
    runs = demo.RUNS_IN_ORDER
    assert {r.state for r in runs} == {"Running", "Disconnected", "Stalled", "Succeeded", "Failed"}
    assert {r.outputs for r in runs} == {None, "indexed", "deleted"}
    assert len({r.run_name for r in runs}) == len({r.resource_name for r in runs}) == len(runs)
    assert set(demo.first_reports(NOW)) == {r.run_name for r in runs}


def test_manifests_carry_spec_fields_and_overrides() -> None:
    manifest = demo.STALLED.manifest()
    assert manifest["metadata"] == {
        "name": "methylseq-demo-003",
        "namespace": demo.NAMESPACE,
        "labels": {"project": "demo", "pipeline": "methylseq"},
    }
    assert manifest["spec"]["stalledAfterSeconds"] == demo.STALLED_AFTER_SECONDS
    assert manifest["spec"]["outputDir"] == "s3://demo-outputs/runs/methylseq-demo-003/"
    assert demo.FAILED.manifest()["metadata"]["name"] == "sad-einstein"
    assert demo.FAILED.manifest()["spec"]["runName"] == "sad_einstein"


def test_the_disconnected_run_is_disconnected_at_once_and_the_live_one_is_not() -> None:
    reports = demo.first_reports(NOW)
    assert assess(signals(demo.DISCONNECTED, reports[demo.DISCONNECTED.run_name]), NOW).state == "Disconnected"
    live = assess(signals(demo.LIVE, reports[demo.LIVE.run_name]), NOW)
    assert live.state == "Running"
    assert not live.disconnected
    assert live.next_change_at == NOW + timedelta(seconds=300), "a heartbeat every 10 s keeps it far away"


def test_the_stalled_run_stalls_after_its_own_window_not_before() -> None:
    status = demo.first_reports(NOW)[demo.STALLED.run_name]
    assert all_tasks_terminal(convert.processes(status))
    window = timedelta(seconds=demo.STALLED_AFTER_SECONDS)
    assert assess(signals(demo.STALLED, status, NOW), NOW + window - timedelta(seconds=1)).state == "Running"
    assert assess(signals(demo.STALLED, status, NOW), NOW + window).state == "Stalled"


@pytest.mark.parametrize("tick", [0, 1, 17, 42, 43, 71, 72, 500])
def test_the_live_run_always_has_an_active_task(tick: int) -> None:
    processes = [ProcessCounts(**p) for p in demo.live_processes(tick)]
    assert not all_tasks_terminal(processes)
    totals = dict(demo.LIVE_STAGES)
    for process in demo.live_processes(tick)[:-1]:
        assert process["succeeded"] + process["running"] + process["pending"] == totals[process["name"]]
        assert process["running"] <= demo.LIVE_SLOTS


def test_the_live_run_advances_one_task_per_heartbeat_until_every_stage_is_done() -> None:
    def finished(tick: int) -> int:
        return sum(p.get("succeeded", 0) for p in demo.live_processes(tick))

    assert finished(0) == demo.LIVE_DONE_AT_START
    assert [finished(t + 1) - finished(t) for t in range(41)] == [1] * 41
    done = sum(total for _, total in demo.LIVE_STAGES)
    assert finished(500) == done
    assert demo.live_processes(500)[-1] == {"name": "MULTIQC", "running": 1, "pending": 0}
    assert demo.live_report(3, NOW)["cost"] > demo.live_report(2, NOW)["cost"]


def test_the_failed_run_resumes_later_and_clears_its_completion_then_fails_again() -> None:
    first = demo.first_reports(NOW)[demo.FAILED.run_name]
    started = demo.resumed_start(NOW)
    resumed = demo.resumed_report(started, NOW)
    assert parse_time(started) > parse_time(first["completedAt"]) > parse_time(first["startedAt"])  # type: ignore[operator]
    assert resumed["phase"] == "Running"
    assert resumed["completedAt"] is None
    assert resumed["errorMessage"] is None
    later = NOW + timedelta(seconds=5)
    again = demo.failed_again_report(later)
    assert again["phase"] == "Failed"
    assert parse_time(again["completedAt"]) == later
    assert again["errorMessage"] != first["errorMessage"]


def test_published_objects_lie_under_the_run_output_dir() -> None:
    for run in (demo.INDEXED, demo.DELETED, demo.FAILED):
        prefix = run.output_dir.removeprefix(f"s3://{demo.BUCKET}/")
        objects = demo.published_objects(run)
        assert objects
        assert all(key.startswith(prefix) and size > 0 for key, size in objects)


def test_the_commands_to_try_name_demo_runs_and_real_subcommands() -> None:
    commands = [command for command, _ in demo.try_commands()]
    assert commands[0] == "kubectl get wfr -n demo"
    assert "tracker -n demo outputs delete sad_einstein --wait" in commands
    names = {r.run_name for r in demo.RUNS_IN_ORDER}
    assert all(any(name in c for name in names) for c in commands if " run " in c or "outputs" in c)
