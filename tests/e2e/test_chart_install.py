"""The chart, installed: its components run, the commands its pods run are the
project's console scripts, the API guards its routes, and each component's service
account can do exactly what the README's least-privilege table lists."""

from __future__ import annotations

import json
import re
import tomllib
import uuid
from pathlib import Path

import httpx
import pytest
from e2e.system import RELEASE, RELEASE_NAMESPACE, E2ESystem, helm

pytestmark = pytest.mark.e2e
REPO_ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = {"operator": "tracker-operator", "api": "tracker-api"}


def test_the_release_is_deployed_and_its_deployments_available(e2e_system: E2ESystem) -> None:
    status = json.loads(helm(e2e_system, "status", RELEASE, "-n", RELEASE_NAMESPACE, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"
    for component in COMPONENTS:
        deployment = json.loads(
            e2e_system.kubectl(
                "get", "deployment", f"{RELEASE}-{component}", "-n", RELEASE_NAMESPACE, "-o", "json"
            ).stdout
        )
        available = {c["type"]: c["status"] for c in deployment["status"]["conditions"]}["Available"]
        assert available == "True", f"{component} is not available"
    peering = e2e_system.kubectl("get", "clusterkopfpeering", "tracker", "-o", "name")
    assert peering.stdout.strip() == "clusterkopfpeering.kopf.dev/tracker"


def test_pods_run_the_console_scripts_of_the_distribution(e2e_system: E2ESystem) -> None:
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    pods = json.loads(e2e_system.kubectl("get", "pods", "-n", RELEASE_NAMESPACE, "-o", "json").stdout)["items"]
    running = {
        pod["metadata"]["labels"]["app.kubernetes.io/component"]: pod
        for pod in pods
        if pod["status"]["phase"] == "Running"
    }
    assert set(running) == set(COMPONENTS)
    for component, command in COMPONENTS.items():
        container = running[component]["spec"]["containers"][0]
        assert container["command"] == [command]
        assert command in scripts
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert running[component]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_the_namespaces_enforce_the_restricted_pod_security_standard(e2e_system: E2ESystem) -> None:
    """So the chart's pods (and the worker pods the other tests run) are restricted by
    the apiserver's own judgement: a privileged pod is refused there."""
    labels = json.loads(e2e_system.kubectl("get", "namespace", RELEASE_NAMESPACE, "-o", "json").stdout)
    assert labels["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged", "namespace": RELEASE_NAMESPACE},
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "workflow-tracker:e2e",
                    "command": ["true"],
                    "securityContext": {"privileged": True},
                }
            ]
        },
    }
    refused = e2e_system.kubectl("apply", "--dry-run=server", "-f", "-", input=json.dumps(pod), check=False)
    assert refused.returncode != 0
    assert "violates PodSecurity" in refused.stderr


def test_the_api_wants_a_kubernetes_token(e2e_system: E2ESystem) -> None:
    runs = f"{e2e_system.api_url}/api/v1/runs"
    assert httpx.get(runs, timeout=10).status_code == 401
    assert httpx.get(runs, headers={"Authorization": "Bearer not-a-token"}, timeout=10).status_code == 401
    e2e_system.kubectl("create", "serviceaccount", "reader", "-n", RELEASE_NAMESPACE, check=False)
    token = e2e_system.token(RELEASE_NAMESPACE, "reader")
    answer = httpx.get(runs, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200
    assert "items" in answer.json()


# -- least privilege ---------------------------------------------------------------------

ROW = re.compile(r"^(\S*)\s+(\[[^\]]*\])\s+(\[[^\]]*\])\s+(\[[^\]]*\])\s*$")


def permissions(system: E2ESystem, user: str, namespace: str) -> set[tuple[str, str]]:
    """(resource, verb) pairs `kubectl auth can-i --list` shows for `user` in `namespace`;
    a resource limited to some names reads `resource[name,...]`."""
    listing = system.kubectl("auth", "can-i", "--list", f"--as={user}", "-n", namespace).stdout
    granted: set[tuple[str, str]] = set()
    for line in listing.splitlines()[1:]:
        match = ROW.match(line)
        assert match, f"unexpected can-i line: {line!r}"
        resource, non_resource, names, verbs = match.groups()
        if not resource:
            granted |= {(non_resource, verb) for verb in verbs[1:-1].split()}
            continue
        key = resource + (names.replace(" ", ",") if names != "[]" else "")
        granted |= {(key, verb) for verb in verbs[1:-1].split()}
    return granted


def readme_table() -> dict[tuple[str, str], set[tuple[str, str]]]:
    """The least-privilege table of the README: (component, scope) -> (resource, verb) pairs."""
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("### Least privilege", 1)[1].split("\n#", 1)[0]
    table: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for line in section.splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("Component", "") or set(cells[0]) <= {"-", ":"}:
            continue
        component, scope, resource, verbs = cells
        table.setdefault((component, scope), set()).update((resource, verb) for verb in verbs.split())
    return table


def test_each_component_can_do_exactly_what_the_readme_lists(e2e_system: E2ESystem) -> None:
    """In a user's namespace (cluster-wide rights) and, beyond those, in the release
    namespace, where worker Jobs run; the worker's account is the chart's own."""
    namespace = f"can-i-{uuid.uuid4().hex[:6]}"
    e2e_system.kubectl("create", "namespace", namespace)
    try:
        # What any service account may do (discovery, self reviews): not the chart's doing.
        baseline = permissions(e2e_system, f"system:serviceaccount:{namespace}:nobody", namespace)
        accounts = {"operator": f"{RELEASE}-operator", "api": f"{RELEASE}-api", "worker": "tracker-worker"}
        actual: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for component, account in accounts.items():
            user = f"system:serviceaccount:{RELEASE_NAMESPACE}:{account}"
            cluster = permissions(e2e_system, user, namespace) - baseline
            home = permissions(e2e_system, user, RELEASE_NAMESPACE) - baseline - cluster
            actual |= {
                (component, scope): granted
                for scope, granted in (("cluster", cluster), ("release namespace", home))
                if granted
            }
    finally:
        e2e_system.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    assert actual == readme_table()


def test_the_notes_say_where_to_look(e2e_system: E2ESystem) -> None:
    notes = helm(e2e_system, "get", "notes", RELEASE, "-n", RELEASE_NAMESPACE).stdout
    assert f"kubectl -n {RELEASE_NAMESPACE} port-forward service/{RELEASE}-api 8000:80" in notes
    assert f"worker pods here, in namespace {RELEASE_NAMESPACE}" in notes
    assert 'Secret "tracker-database"' in notes
    assert 'the Secret "tracker-s3" with S3 credentials' in notes
    assert "users' namespaces need no tracker Secret" in notes
    assert "export TOWER_ACCESS_TOKEN=$(kubectl -n <namespace> create token <runner>)" in notes
    assert "-with-tower http://127.0.0.1:8000/tower" in notes
