"""What the engine tests share: the static token their runs report with, real
Sprocket runs on its local backend (commands on the host, no container runtime), and
the read API's view of a reported run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import httpx

from localcluster.sprocket import sprocket_binary

TOKEN, USER = "engine-runner-token", "wdl-runner"  # the tier's own static token
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
