"""The chart's rendered manifests, with every optional part switched on, are accepted
by the real apiserver (`kubectl apply --dry-run=server`: schema, admission and the CEL
of the admission policy all checked, nothing stored)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from localcluster.controlplane import ControlPlane

pytestmark = pytest.mark.cluster
CHART = Path(__file__).resolve().parents[2] / "charts" / "tracker"
FULL = (
    "api.ingress.enabled=true",
    "api.ingress.tlsSecret=tracker-tls",
    "database.url=postgresql+psycopg://db/t",
    "s3.existingSecret=tracker-s3",
    "operator.replicas=2",
    "admins.users={alice}",
    "worker.serviceAccountAnnotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/w",
)


@pytest.mark.parametrize(
    "sets",
    [(), FULL, ("api.authMode=token", "api.tokensSecret=tokens", "api.enabled=true")],
    ids=["defaults", "everything-on", "token-auth"],
)
def test_rendered_manifests_are_accepted_by_the_apiserver(
    crds_installed: ControlPlane, namespace: str, sets: tuple[str, ...]
) -> None:
    helm = crds_installed.bin_dir / "helm"
    rendered = subprocess.run(
        [
            str(helm),
            "template",
            "tracker",
            str(CHART),
            "--namespace",
            namespace,
            "--kube-version",
            "1.35.4",
            *(f"--set={s}" for s in sets),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = crds_installed.kubectl("apply", "--dry-run=server", "-f", "-", input=rendered, check=False)
    assert result.returncode == 0, result.stderr
    assert "deployment.apps/tracker-operator created (server dry run)" in result.stdout
    assert "validatingadmissionpolicy.admissionregistration.k8s.io/tracker.dev-requester-identity" in result.stdout
