"""The local control plane is the real thing: version, TLS, RBAC, Node authorization."""

from __future__ import annotations

import json

import pytest

from localcluster.controlplane import ControlPlane

pytestmark = pytest.mark.cluster


def test_smoke_server_reports_its_pinned_release(control_plane: ControlPlane) -> None:
    version = json.loads(control_plane.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.35.4"
    assert version["clientVersion"]["gitVersion"] == "v1.35.4"


def test_admin_is_cluster_admin(control_plane: ControlPlane) -> None:
    assert control_plane.kubectl("auth", "can-i", "*", "*").stdout.strip() == "yes"


def test_user_without_rbac_rights_is_forbidden(control_plane: ControlPlane, namespace: str) -> None:
    kubeconfig = control_plane.mint_user("alice", groups=["scientists"])
    denied = control_plane.kubectl("get", "pods", "-n", namespace, kubeconfig=kubeconfig, check=False)
    assert denied.returncode == 1
    assert 'User "alice" cannot list resource "pods"' in denied.stderr

    control_plane.kubectl(
        "create", "rolebinding", "scientists-view", "--clusterrole=view", "--group=scientists", "-n", namespace
    )
    allowed = control_plane.kubectl(
        "auth", "can-i", "list", "pods", "-n", namespace, kubeconfig=kubeconfig, check=False
    )
    assert allowed.stdout.strip() == "yes"


def test_groups_come_from_the_client_certificate(control_plane: ControlPlane) -> None:
    kubeconfig = control_plane.mint_user("bob", groups=["lab-a", "lab-b"])
    review = json.loads(control_plane.kubectl("auth", "whoami", "-o", "json", kubeconfig=kubeconfig).stdout)
    user = review["status"]["userInfo"]
    assert user["username"] == "bob"
    assert {"lab-a", "lab-b", "system:authenticated"} <= set(user["groups"])


def test_validating_admission_policy_api_is_served(control_plane: ControlPlane) -> None:
    resources = control_plane.kubectl(
        "api-resources", "--api-group=admissionregistration.k8s.io", "-o", "name"
    ).stdout.split()
    assert "validatingadmissionpolicies.admissionregistration.k8s.io" in resources
    assert "validatingadmissionpolicybindings.admissionregistration.k8s.io" in resources


def test_node_credentials_are_restricted_by_the_node_authorizer(control_plane: ControlPlane) -> None:
    denied = control_plane.kubectl("get", "secrets", "-A", kubeconfig=control_plane.node_kubeconfig, check=False)
    assert denied.returncode == 1
    assert "forbidden" in denied.stderr.lower()
