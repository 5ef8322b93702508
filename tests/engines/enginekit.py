"""What the engine tests share: the static token their runs report with, and real
Sprocket runs on its local backend (commands on the host, no container runtime)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from localcluster.sprocket import sprocket_binary

TOKEN, USER = "engine-runner-token", "wdl-runner"  # the tier's own static token
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
