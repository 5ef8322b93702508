"""Fixtures of the e2e suite: the chart-installed system (see system.py), a namespace
where runs live (no tracker Secret in it: worker pods run in the release namespace),
and its people."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from e2e.people import Person, RunsNamespace
from e2e.system import (
    ADMIN_ACCOUNT,
    RELEASE_NAMESPACE,
    E2ESystem,
    kind_system,
    local_system,
    restricted_namespace,
)

from localcluster.postgres import PostgresServer

RUNNER_ROLES = ("tracker-runner", "tracker-user")


@pytest.fixture(scope="session")
def e2e_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2ESystem]:
    work_dir = tmp_path_factory.mktemp("e2e")
    if os.environ.get("TRACKER_E2E_TARGET") == "kind":
        with kind_system(work_dir) as system:
            yield system
        return
    postgres = PostgresServer().start()
    try:
        with local_system(work_dir, postgres) as system:
            yield system
    finally:
        postgres.stop()


@pytest.fixture(scope="module")
def runs_namespace(e2e_system: E2ESystem) -> Iterator[RunsNamespace]:
    """A namespace where alice runs workflows, as a platform team would set one up: the
    chart's ClusterRoles bound to its people, and no Secret."""
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    restricted_namespace(e2e_system, name)
    alice, bob = _person(e2e_system, name, name, "alice"), _person(e2e_system, name, name, "bob")
    admin = _person(e2e_system, name, RELEASE_NAMESPACE, ADMIN_ACCOUNT)
    yield RunsNamespace(name=name, alice=alice, bob=bob, admin=admin)
    e2e_system.kubectl("delete", "namespace", name, "--wait=false", check=False)


def _person(system: E2ESystem, runs_namespace: str, home: str, name: str) -> Person:
    """ServiceAccount `name` of namespace `home`, with the chart's roles in `runs_namespace`."""
    kubeconfig = system.service_account_user(home, name)
    for role in RUNNER_ROLES:
        system.kubectl(
            "create",
            "rolebinding",
            f"{name}-{role}",
            f"--clusterrole={role}",
            f"--serviceaccount={home}:{name}",
            "-n",
            runs_namespace,
        )
    return Person(home=home, name=name, kubeconfig=kubeconfig)
