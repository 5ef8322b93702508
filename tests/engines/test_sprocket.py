"""Real Sprocket (built from crates.io, its local backend) running real WDL, its
provenance database followed by `tracker watch sprocket`: runs and task attempts in
the tracker with their phases; a restarted watcher duplicating nothing; a missing,
corrupt or unknown database refused in one line; a tracker out of reach retried
until it comes back, nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from enginekit import AUTH, TOKEN, TRACKER, USER, sprocket_run, sprocket_runs, tracked_run, tracked_tasks, watch
from fixtures.trackerapi import Api, serve

from localcluster.processes import free_port, wait_until

pytestmark = pytest.mark.engines


def tracked(tracker: Api, name: str) -> dict[str, Any]:
    return tracked_run(tracker.url, name)


def attempts(tracker: Api, run_id: str) -> list[tuple[str, str | None, str, int | None]]:
    return [(t["process"], t["tag"], t["status"], t["exitCode"]) for t in tracked_tasks(tracker.url, run_id)]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Sprocket output directory holding three finished runs: two tasks that
    succeed, a scatter of three, and a workflow whose second task fails."""
    workdir = tmp_path_factory.mktemp("sprocket")
    out = workdir / "out"
    for workflow, succeeds in (("two_tasks.wdl", True), ("scatter.wdl", True), ("failing.wdl", False)):
        done = sprocket_run(workflow, workdir, out)
        assert (done.returncode == 0) is succeeds, done.stderr
    return out


def test_sprocket_runs_are_reported_with_their_tasks_and_phases(tracker: Api, out_dir: Path) -> None:
    done = watch(out_dir, f"{tracker.url}/tower", "--once")
    assert done.returncode == 0, done.stderr
    recorded = sprocket_runs(out_dir)
    assert sorted(status for _, status in recorded.values()) == ["completed", "completed", "failed"]
    runs = {name: tracked(tracker, name) for name in recorded}
    assert {r["engine"] for r in runs.values()} == {"wdl"}
    assert {r["owner"] for r in runs.values()} == {USER}
    by_target = {recorded[name][0]: run for name, run in runs.items()}
    two, scatter, failing = by_target["two_tasks"], by_target["scatter_samples"], by_target["failing"]
    assert (two["phase"], scatter["phase"], failing["phase"]) == ("Succeeded", "Succeeded", "Failed")
    assert [(p, s, e) for p, _, s, e in attempts(tracker, two["id"])] == [
        ("greet", "COMPLETED", 0),
        ("count_words", "COMPLETED", 0),
    ]
    shards = attempts(tracker, scatter["id"])
    assert sorted(tag or "" for _, tag, _, _ in shards) == ["align-0", "align-1", "align-2"]
    assert {(p, s, e) for p, _, s, e in shards} == {("align", "COMPLETED", 0)}
    assert [(p, s, e) for p, _, s, e in attempts(tracker, failing["id"])] == [
        ("prepare", "COMPLETED", 0),
        ("break_down", "FAILED", 3),
    ]
    assert failing["errorMessage"]

    # A restarted watcher reads its state file: nothing is sent twice (the state file
    # is written after every acknowledged call, and is not written again).
    state = out_dir / ".tracker-watch.json"
    written = state.stat().st_mtime_ns
    before = {name: (attempts(tracker, r["id"]), tracked(tracker, name)["executions"]) for name, r in runs.items()}
    again = watch(out_dir, f"{tracker.url}/tower", "--once")
    assert again.returncode == 0, again.stderr
    assert state.stat().st_mtime_ns == written
    after = {name: (attempts(tracker, r["id"]), tracked(tracker, name)["executions"]) for name, r in runs.items()}
    assert after == before


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda db: db.unlink(), "no Sprocket database at"),
        (lambda db: db.write_bytes(b"not a database, just bytes" * 100), "cannot read"),
        (lambda db: _sql(db, "update metadata set value = '2' where key = 'version'"), "schema version '2'"),
        (
            lambda db: _sql(
                db,
                "insert into _sqlx_migrations select 20990101000000, 'future', installed_on, "
                "success, checksum, execution_time from _sqlx_migrations limit 1",
            ),
            "unknown migrations [20990101000000]",
        ),
    ],
    ids=["missing", "corrupt", "unknown-version", "newer-sprocket"],
)
def test_a_database_it_cannot_read_is_one_line_and_exit_1(
    tracker: Api, out_dir: Path, tmp_path: Path, spoil: Any, message: str
) -> None:
    copy = tmp_path / "out"
    copy.mkdir()
    shutil.copy(out_dir / "sprocket.db", copy / "sprocket.db")
    spoil(copy / "sprocket.db")
    done = watch(copy, f"{tracker.url}/tower", "--once")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("tracker: ")
    assert message in done.stderr


def _sql(db: Path, statement: str) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(statement)


def test_a_tracker_out_of_reach_is_retried_and_gets_everything_when_it_comes_back(
    out_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "out"
    copy.mkdir()
    shutil.copy(out_dir / "sprocket.db", copy / "sprocket.db")
    port = free_port()
    log = (tmp_path / "watch.err").open("w")
    watcher = subprocess.Popen(
        [
            str(TRACKER),
            "watch",
            "sprocket",
            str(copy),
            "--url",
            f"http://127.0.0.1:{port}/tower",
            "--token",
            TOKEN,
            "--interval",
            "0.5",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_until(lambda: "retrying" in (tmp_path / "watch.err").read_text(), timeout=60, what="a retry line")
        assert watcher.poll() is None, "the watcher keeps going while the tracker is away"
        state = tmp_path / "api"
        state.mkdir()
        late = serve(
            f"sqlite:///{state / 'index.db'}",
            state,
            port=port,
            TRACKER_API__AUTH_MODE="token",
            TRACKER_API__TOKENS=json.dumps({TOKEN: USER}),
            TRACKER_TOWER__DEFAULT_NAMESPACE="wdl",
        )
        try:
            names = sprocket_runs(copy)

            def all_reported() -> bool:
                return all(
                    (
                        r := httpx.get(f"{late.url}/api/v1/runs/{n}", headers=AUTH, params={"namespace": "wdl"})
                    ).status_code
                    == 200
                    and r.json()["phase"] in ("Succeeded", "Failed")
                    for n in names
                )

            wait_until(all_reported, timeout=90, what="every run reported once the tracker is back", interval=0.5)
        finally:
            late.process.stop()
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
        log.close()


def test_a_watcher_beside_the_engine_reports_the_final_attempts(tracker: Api, tmp_path: Path) -> None:
    """Sprocket marks the run done just before it writes metrics.json: a watcher
    polling meanwhile waits for it rather than leaving the attempts Running."""
    out = tmp_path / "out"
    out.mkdir()
    watcher = subprocess.Popen(
        [str(TRACKER), "watch", "sprocket", str(out), "--url", f"{tracker.url}/tower", "--token", TOKEN,
         "--interval", "0.2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        done = sprocket_run("scatter.wdl", tmp_path, out)
        assert done.returncode == 0, done.stderr
        [name] = sprocket_runs(out)

        def final() -> list[tuple[str, str | None, str, int | None]] | None:
            answer = httpx.get(f"{tracker.url}/api/v1/runs/{name}", headers=AUTH, params={"namespace": "wdl"})
            if answer.status_code != 200 or answer.json()["phase"] != "Succeeded":
                return None
            return attempts(tracker, answer.json()["id"])

        shards = wait_until(final, timeout=60, what="the run reported Succeeded", interval=0.3)
        assert {(p, s, e) for p, _, s, e in shards} == {("align", "COMPLETED", 0)}
        assert len(shards) == 3
    finally:
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(30) == 0
