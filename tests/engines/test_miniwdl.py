"""Real `miniwdl run` (tasks on the host through `miniwdl-backend-bare`) reporting
through the distribution's miniwdl plugin, configured by environment only: the run
and its tasks appear in the tracker with the right phases; a tracker that cannot be
reached does not fail the workflow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from enginekit import USER, miniwdl_run, tracked_run, tracked_tasks
from fixtures.trackerapi import Api

from localcluster.processes import free_port

pytestmark = pytest.mark.engines


def the_run(tracker: Api, directory: Path) -> dict[str, Any]:
    """The run named after miniwdl's run directory (its one subdirectory)."""
    [run_dir] = [p for p in directory.iterdir() if p.is_dir() and p.name[0].isdigit()]
    return tracked_run(tracker.url, run_dir.name)


def tasks_of(tracker: Api, run_id: str) -> list[tuple[str, str, int | None]]:
    return [(t["process"], t["status"], t["exitCode"]) for t in tracked_tasks(tracker.url, run_id)]


def test_a_two_task_workflow_is_a_succeeded_wdl_run_with_its_tasks(tracker: Api, tmp_path: Path) -> None:
    done = miniwdl_run("two_tasks.wdl", tmp_path, f"{tracker.url}/tower", "who=tracker")
    assert done.returncode == 0, done.stderr
    run = the_run(tracker, tmp_path)
    assert (run["phase"], run["engine"], run["owner"], run["namespace"]) == ("Succeeded", "wdl", USER, "wdl")
    assert run["params"] == {"who": "tracker"}
    assert tasks_of(tracker, run["id"]) == [("greet", "COMPLETED", 0), ("count_words", "COMPLETED", 0)]


def test_a_scatter_reports_every_shard(tracker: Api, tmp_path: Path) -> None:
    done = miniwdl_run("scatter.wdl", tmp_path, f"{tracker.url}/tower")
    assert done.returncode == 0, done.stderr
    run = the_run(tracker, tmp_path)
    assert run["phase"] == "Succeeded"
    assert sorted(tasks_of(tracker, run["id"])) == [("align", "COMPLETED", 0)] * 3
    [align] = run["processes"]
    assert (align["name"], align["succeeded"], align["failed"]) == ("align", 3, 0)


def test_a_failing_task_fails_the_run_with_its_exit_status(tracker: Api, tmp_path: Path) -> None:
    done = miniwdl_run("failing.wdl", tmp_path, f"{tracker.url}/tower")
    assert done.returncode != 0
    run = the_run(tracker, tmp_path)
    assert run["phase"] == "Failed"
    assert "break_down" in run["errorMessage"]
    assert tasks_of(tracker, run["id"]) == [("prepare", "COMPLETED", 0), ("break_down", "FAILED", 3)]


def test_an_unreachable_tracker_does_not_fail_the_workflow(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/tower"
    done = miniwdl_run("two_tasks.wdl", tmp_path, nowhere, MINIWDL__TRACKER__GRACE_SECONDS="1")
    assert done.returncode == 0, done.stderr
    assert "tracker: create not reported yet, retrying" in done.stderr or "reports still unsent" in done.stderr
