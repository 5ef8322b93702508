"""Where the node agent keeps a pod's files under its state directory.

One directory per pod, `<state-dir>/pods/<namespace>_<pod>_<uid>/`, holding each
container's log (`<container>.log`) and pid (`<container>.pid`), the pod's
service-account kubeconfig and the processes' working directory. Tests use the same
functions to find a container's pid or log.

As on a kubelet, a finished pod's working directory and token go once its final status
is reported (`release_volumes`), its logs when the pod is deleted (`remove`).
"""

from __future__ import annotations

import shutil
from pathlib import Path


def pod_dir_name(namespace: str, name: str, uid: str) -> str:
    return f"{namespace}_{name}_{uid}"


def pod_dir(state_dir: Path, namespace: str, name: str, uid: str) -> Path:
    return state_dir / "pods" / pod_dir_name(namespace, name, uid)


def find_pod_dir(state_dir: Path, namespace: str, name: str) -> Path | None:
    """The newest directory of a pod named `name` (any uid), or None."""
    candidates = sorted((state_dir / "pods").glob(f"{namespace}_{name}_*"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def log_path(directory: Path, container: str) -> Path:
    return directory / f"{container}.log"


def pid_path(directory: Path, container: str) -> Path:
    return directory / f"{container}.pid"


def kubeconfig_path(directory: Path) -> Path:
    return directory / "kubeconfig"


def work_dir(directory: Path) -> Path:
    return directory / "work"


def pod_dirs(state_dir: Path) -> dict[str, Path]:
    """Every pod directory under `state_dir`, by pod uid."""
    pods = state_dir / "pods"
    return {p.name.rsplit("_", 1)[-1]: p for p in pods.iterdir() if p.is_dir()} if pods.is_dir() else {}


def release_volumes(directory: Path) -> None:
    """A finished pod's working directory and service-account kubeconfig; its logs stay."""
    shutil.rmtree(work_dir(directory), ignore_errors=True)
    kubeconfig_path(directory).unlink(missing_ok=True)


def remove(directory: Path) -> None:
    """Everything of a deleted pod."""
    shutil.rmtree(directory, ignore_errors=True)
