"""The Sprocket WDL engine built from crates.io by scripts/build-sprocket.sh (cached
under the home directory), unless `TRACKER_SPROCKET_BIN` names a binary."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from localcluster.repo import repo_root


@functools.cache
def sprocket_binary() -> Path:
    """The `sprocket` executable (built first if needed: many minutes, once)."""
    override = os.environ.get("TRACKER_SPROCKET_BIN")
    if override:
        return Path(override)
    build_script = repo_root() / "scripts" / "build-sprocket.sh"
    result = subprocess.run([str(build_script)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(result.stdout.strip().splitlines()[-1]) / "bin" / "sprocket"
