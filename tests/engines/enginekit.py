"""What the engine tests share: the static token their runs report with, real
Sprocket runs on its local backend (commands on the host, no container runtime), and
the read API's view of a reported run."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from fixtures.trackerapi import Api, serve

from localcluster.sprocket import sprocket_binary

TOKEN, USER = "engine-runner-token", "wdl-runner"  # the tier's own static token
CPU_HOUR = 3_600_000.0  # the tier's API's price of a CPU-hour: a dollar per CPU-millisecond
TRACKER = Path(sys.executable).with_name("tracker")
MINIWDL = Path(sys.executable).with_name("miniwdl")
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WDL = Path(__file__).resolve().parents[1] / "fixtures" / "wdl"
# Heartbeat every 12 s (a fifth of the orphan timeout), so a killed run goes stale quickly.
SPROCKET_TOML = """
[run]
output_dir = "{out_dir}"

[run.backends.default]
type = "local"

[server]
orphan_timeout_minutes = 1
"""


def tier_api(state: Path, **settings: str) -> Api:
    """A `tracker-api` as the tier runs it: the tier's static token (runs reported
    into namespace `wdl`), an SQLite index in `state`, a price of a dollar per
    CPU-millisecond (the tier's runs last milliseconds: their cost shows in dollars),
    and `settings`."""
    return serve(
        f"sqlite:///{state / 'index.db'}",
        state,
        TRACKER_API__AUTH_MODE="token",
        TRACKER_API__TOKENS=json.dumps({TOKEN: USER}),
        TRACKER_TOWER__DEFAULT_NAMESPACE="wdl",
        TRACKER_COMPUTE_PRICES__CPU_HOUR=str(CPU_HOUR),
        TRACKER_COMPUTE_PRICES__GIB_HOUR="0",
        **settings,
    )


def sprocket_env(workdir: Path, out_dir: Path) -> dict[str, str]:
    config = workdir / "sprocket.toml"
    config.write_text(SPROCKET_TOML.format(out_dir=out_dir))
    return {k: v for k, v in os.environ.items() if not k.startswith(("SPROCKET_", "TOWER_"))} | {
        "SPROCKET_CONFIG": str(config)
    }


def sprocket_run(workflow: str, workdir: Path, out_dir: Path, *inputs: str) -> subprocess.CompletedProcess[str]:
    """`sprocket run WORKFLOW [KEY=VALUE...]` to its end."""
    return subprocess.run(
        [str(sprocket_binary()), "run", str(WDL / workflow), *inputs],
        cwd=workdir,
        env=sprocket_env(workdir, out_dir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def sprocket_start(workflow: str, workdir: Path, out_dir: Path, *inputs: str) -> subprocess.Popen[str]:
    """`sprocket run` in the background (to be killed)."""
    return subprocess.Popen(
        [str(sprocket_binary()), "run", str(WDL / workflow), *inputs],
        cwd=workdir,
        env=sprocket_env(workdir, out_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def watch(out_dir: Path, url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`tracker watch sprocket OUT_DIR --url URL --token TOKEN ARGS...` to its end
    (`env` added to this process's environment)."""
    return subprocess.run(
        [str(TRACKER), "watch", "sprocket", str(out_dir), "--url", url, "--token", TOKEN, *args],
        env=os.environ | env if env else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def miniwdl_run(
    workflow: str, directory: Path, tower: str, *inputs: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`miniwdl run WORKFLOW [KEY=VALUE...] --dir DIRECTORY/` on the bare backend,
    reporting to `tower` through the distribution's plugin."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MINIWDL__", "TOWER_"))} | {
        "MINIWDL__SCHEDULER__CONTAINER_BACKEND": "bare",
        "MINIWDL__TRACKER__URL": tower,
        "MINIWDL__TRACKER__TOKEN": TOKEN,
        **env,
    }
    directory.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(MINIWDL), "run", str(WDL / workflow), *inputs, "--dir", f"{directory}/"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def sprocket_runs(out_dir: Path) -> dict[str, tuple[str, str]]:
    """Run name -> (target, status), as Sprocket recorded them in its database."""
    with sqlite3.connect(f"{(out_dir / 'sprocket.db').as_uri()}?mode=ro", uri=True) as db:
        rows = db.execute("select name, target, status from runs order by id").fetchall()
    return {name: (target, status) for name, target, status in rows}


def tracked_run(api_url: str, name: str) -> dict[str, Any]:
    """The run as the read API shows it (namespace `wdl`, where the tier's token reports)."""
    answer = httpx.get(f"{api_url}/api/v1/runs/{name}", headers=AUTH, params={"namespace": "wdl"})
    assert answer.status_code == 200, answer.text
    run: dict[str, Any] = answer.json()
    return run


def tracked_tasks(api_url: str, run_id: str) -> list[dict[str, Any]]:
    """The run's task attempts, by task id."""
    answer = httpx.get(f"{api_url}/api/v1/runs/{run_id}/tasks", headers=AUTH, params={"sort": "task_id"})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items
