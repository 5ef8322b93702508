"""Where the control-plane binaries are: built once by scripts/build-control-plane.sh.

The build script keys its cache by the pinned versions, so asking again is instant.
`TRACKER_K8S_BIN_DIR` points at a directory of ready binaries instead.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "scripts" / "build-control-plane.sh"


@functools.cache
def control_plane_binaries() -> Path:
    """The directory holding etcd, kube-apiserver, kube-controller-manager,
    kube-scheduler, kubectl and helm, building them first if needed."""
    override = os.environ.get("TRACKER_K8S_BIN_DIR")
    if override:
        return Path(override)
    result = subprocess.run([str(BUILD_SCRIPT)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(result.stdout.strip().splitlines()[-1])
