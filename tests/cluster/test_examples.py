"""The manifests in examples/ are accepted by the real apiserver (admission included)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from localcluster.controlplane import ControlPlane

pytestmark = pytest.mark.cluster
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_accepted(tracker_rbac: ControlPlane, path: Path) -> None:
    manifest = yaml.safe_load(path.read_text())
    tracker_rbac.kubectl("create", "namespace", manifest["metadata"]["namespace"], check=False)
    if manifest["kind"] == "OutputLifecycleJob":
        manifest["spec"]["requestedBy"] = "admin"  # the admission policy wants the applying user
    result = tracker_rbac.kubectl("apply", "--dry-run=server", "-f", "-", input=yaml.safe_dump(manifest), check=False)
    assert result.returncode == 0, result.stderr
    assert "created (server dry run)" in result.stdout
