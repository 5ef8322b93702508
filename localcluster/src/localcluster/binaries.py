"""Where the control-plane binaries are: built once by scripts/build-control-plane.sh.

The build script keys its cache by the pinned versions, so asking again is instant.
`TRACKER_K8S_BIN_DIR` points at a directory of ready binaries instead; otherwise the
script comes from the checkout named by `LOCALCLUSTER_REPO` (`localcluster.repo`).
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

from localcluster.repo import repo_root


@functools.cache
def control_plane_binaries() -> Path:
    """The directory holding etcd, kube-apiserver, kube-controller-manager,
    kube-scheduler, kubectl and helm, building them first if needed."""
    override = os.environ.get("TRACKER_K8S_BIN_DIR")
    if override:
        return Path(override)
    build_script = repo_root() / "scripts" / "build-control-plane.sh"
    result = subprocess.run([str(build_script)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(result.stdout.strip().splitlines()[-1])
