"""The Workflow Tracker checkout the harness works on: it applies its `crds/`, `rbac/`
and `admission/` and runs its build scripts.

The harness is told where it is, never guesses from where it is installed:
`LOCALCLUSTER_REPO` names it (`scripts/run` passes `localcluster --repo`, which sets
it; `tests/conftest.py` sets it for the test session and the processes it starts).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "LOCALCLUSTER_REPO"
_LAYOUT = ("crds", "rbac", "admission", "scripts")


class RepoNotGiven(RuntimeError):
    """Where the checkout is was not said, or the place said is not one."""


def repo_root() -> Path:
    """The checkout named by `LOCALCLUSTER_REPO`, checked to look like one."""
    value = os.environ.get(ENV)
    if not value:
        raise RepoNotGiven(
            f"{ENV} is not set: set it (or pass --repo DIR) to the Workflow Tracker checkout, "
            "the directory holding crds/, rbac/, admission/ and scripts/"
        )
    root = Path(value).resolve()
    missing = [name for name in _LAYOUT if not (root / name).is_dir()]
    if missing:
        raise RepoNotGiven(
            f"{ENV}={value} is not a Workflow Tracker checkout: it has no " + ", ".join(f"{name}/" for name in missing)
        )
    return root


def use_repo(path: str | os.PathLike[str]) -> Path:
    """Name the checkout for this process and the ones it starts; returns it, checked."""
    os.environ[ENV] = str(Path(path).resolve())
    return repo_root()
