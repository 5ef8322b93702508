"""The ValidatingAdmissionPolicy makes a lifecycle job's requester the authenticated user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localcluster.controlplane import ControlPlane
from localcluster.processes import wait_until

pytestmark = pytest.mark.cluster


def job(namespace: str, requested_by: str, groups: list[str] | None = None) -> str:
    spec = {"run": "foo-run-001", "operation": "delete_outputs", "requestedBy": requested_by}
    if groups is not None:
        spec["requestedByGroups"] = groups
    return json.dumps(
        {
            "apiVersion": "tracker.dev/v1alpha1",
            "kind": "OutputLifecycleJob",
            "metadata": {"generateName": "delete-", "namespace": namespace},
            "spec": spec,
        }
    )


@pytest.fixture(scope="module")
def policy(tracker_rbac: ControlPlane) -> ControlPlane:
    """The system as installed: CRDs, RBAC and the admission policy."""
    return tracker_rbac


@pytest.fixture
def users(policy: ControlPlane, namespace: str) -> dict[str, Path]:
    policy.kubectl(
        "create",
        "role",
        "job-requester",
        "--verb=create,get,list",
        "--resource=outputlifecyclejobs.tracker.dev",
        "-n",
        namespace,
    )
    policy.kubectl(
        "create", "rolebinding", "job-requesters", "--role=job-requester", "--group=scientists", "-n", namespace
    )
    return {name: policy.mint_user(name, groups=["scientists", f"lab-{name}"]) for name in ("alice", "bob")}


def create(plane: ControlPlane, kubeconfig: Path, manifest: str):
    return plane.kubectl("create", "-f", "-", kubeconfig=kubeconfig, input=manifest, check=False)


def test_requester_must_be_the_authenticated_user(policy: ControlPlane, namespace: str, users: dict[str, Path]) -> None:
    # The policy takes effect asynchronously after it is created: wait until it refuses.
    refused = wait_until(
        lambda: (r := create(policy, users["alice"], job(namespace, "bob"))).returncode != 0 and r,
        timeout=30,
        what="the admission policy to be enforced",
    )
    assert "ValidatingAdmissionPolicy 'tracker.dev-requester-identity'" in refused.stderr
    assert "spec.requestedBy must be the user creating the job (alice), not bob" in refused.stderr

    assert create(policy, users["alice"], job(namespace, "alice")).returncode == 0
    assert create(policy, users["bob"], job(namespace, "bob")).returncode == 0


def test_requester_groups_must_be_the_users_groups(
    policy: ControlPlane, namespace: str, users: dict[str, Path]
) -> None:
    wait_until(
        lambda: create(policy, users["alice"], job(namespace, "bob")).returncode != 0,
        timeout=30,
        what="the admission policy to be enforced",
    )
    borrowed = create(policy, users["alice"], job(namespace, "alice", ["scientists", "lab-bob"]))
    assert borrowed.returncode != 0
    assert "spec.requestedByGroups must be exactly the groups of the user creating the job" in borrowed.stderr
    own = ["scientists", "lab-alice", "system:authenticated"]
    assert create(policy, users["alice"], job(namespace, "alice", own)).returncode == 0
