"""The Helm chart, rendered by the real helm (no cluster): lint, one source for CRDs,
RBAC and admission policy, restricted pods, template naming, values documented and
validated, and the settings it hands the components."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from localcluster.binaries import control_plane_binaries
from tracker.domain.compute_cost import Rate
from tracker.kube.manifests import worker_job
from tracker.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "charts" / "tracker"
KUBE_VERSION = "1.35.4"


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(control_plane_binaries() / "helm"), *args], capture_output=True, text=True, timeout=120
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)}: {result.stderr}")
    return result


def render(*sets: str) -> list[dict[str, Any]]:
    """The chart's objects; each of `sets` is `--set` value, or a flag when it starts with `--`."""
    args = [s if s.startswith("--") else f"--set={s}" for s in sets]
    out = helm(
        "template", "tracker", str(CHART), "--namespace", "tracker-system", "--kube-version", KUBE_VERSION, *args
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_helm_lint_strict_is_clean() -> None:
    result = helm("lint", "--strict", str(CHART))
    findings = [line for line in result.stdout.splitlines() if re.match(r"\[(INFO|WARNING|ERROR)\]", line)]
    assert findings == []
    assert "0 chart(s) failed" in result.stdout


def test_the_crds_are_the_files_in_crds() -> None:
    shipped = helm("show", "crds", str(CHART)).stdout  # the files, one after another
    sources = [path.read_text() for path in sorted((REPO_ROOT / "crds").glob("*.yaml"))]
    assert all(source in shipped for source in sources)
    assert len(shipped.strip()) <= sum(len(source) + 1 for source in sources)
    assert (CHART / "crds").resolve() == (REPO_ROOT / "crds").resolve()


def test_cluster_roles_carry_the_rules_of_rbac() -> None:
    roles = by_kind(render(), "ClusterRole")
    sources = {
        doc["metadata"]["name"]: doc
        for doc in (yaml.safe_load(p.read_text()) for p in (REPO_ROOT / "rbac").glob("*.yaml"))
    }
    assert set(roles) == set(sources)
    for name, source in sources.items():
        assert roles[name]["rules"] == source["rules"], name


def test_the_admission_policy_is_the_one_in_admission() -> None:
    sources = {d["kind"]: d for d in yaml.safe_load_all((REPO_ROOT / "admission/requester-identity.yaml").read_text())}
    rendered = render()
    for kind, source in sources.items():
        (shipped,) = by_kind(rendered, kind).values()
        assert shipped["spec"] == source["spec"]
        assert shipped["metadata"]["name"] == source["metadata"]["name"]
    assert not [o for o in render("admission.enabled=false") if "Admission" in o["kind"]]


def test_every_pod_runs_restricted() -> None:
    deployments = by_kind(render(), "Deployment")
    assert set(deployments) == {"tracker-operator", "tracker-api"}
    for deployment in deployments.values():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_the_api_reads_s3_with_its_own_optional_read_only_secret() -> None:
    def api_env_from(*values: str) -> list[dict[str, object]]:
        deployment = by_kind(render(*values), "Deployment")["tracker-api"]
        env_from: list[dict[str, object]] = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        return env_from

    assert not [source for source in api_env_from("s3.existingSecret=s3-creds") if "secretRef" in source]
    assert {"secretRef": {"name": "api-s3-read"}} in api_env_from("api.s3CredentialsSecret=api-s3-read")


def test_secrets_are_referenced_never_inlined() -> None:
    rendered = render("s3.existingSecret=s3-creds")
    config = by_kind(rendered, "ConfigMap")["tracker-config"]["data"]
    assert not by_kind(rendered, "Secret")
    for deployment in by_kind(rendered, "Deployment").values():
        env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {
            "name": "TRACKER_DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": "tracker-database", "key": "url"}},
        } in env
    operator = by_kind(rendered, "Deployment")["tracker-operator"]["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": "s3-creds"}} in operator["envFrom"]
    assert (config["TRACKER_WORKER__DATABASE_SECRET"], config["TRACKER_WORKER__S3_CREDENTIALS_SECRET"]) == (
        "tracker-database",
        "s3-creds",
    )


def test_compute_prices_reach_the_settings_object() -> None:
    rendered = render(
        "--set-json=computePrices.cpuHour=0.05",
        '--set-json=computePrices.executors={"awsbatch": {"cpuHour": 0.02, "gibHour": 0.002}}',
        '--set-json=computePrices.machineTypes={"m5.2xlarge": {"cpuHour": 0.024, "gibHour": 0.003}}',
    )
    prices = _settings_from(by_kind(rendered, "ConfigMap")["tracker-config"]["data"]).compute_prices.to_domain()
    assert prices.default == Rate(cpu_hour=0.05, gib_hour=0.004445)
    assert prices.rate(executor="awsbatch", machine_type=None) == Rate(cpu_hour=0.02, gib_hour=0.002)
    assert prices.rate(executor="awsbatch", machine_type="m5.2xlarge") == Rate(cpu_hour=0.024, gib_hour=0.003)


def test_a_compute_price_must_be_a_rate() -> None:
    bad = helm(
        "template",
        "t",
        str(CHART),
        "--kube-version",
        KUBE_VERSION,
        '--set-json=computePrices.executors={"awsbatch": {"cpuHour": -1, "gibHour": 0}}',
        check=False,
    )
    assert bad.returncode != 0
    assert "/computePrices/executors/awsbatch/cpuHour" in bad.stderr


def test_the_config_map_is_what_the_settings_object_reads() -> None:
    rendered = render(
        "admins.users={alice,bob}",
        "thresholds.heartbeatTimeoutSeconds=120",
        "--set-json=prices.frequent=0.03",
        "worker.serviceAccountAnnotations.eks\\.amazonaws\\.com/role-arn=arn:x",
        "s3.endpointUrl=http://minio:9000",
        "namespaces={lab-a,lab-b}",
    )
    data = by_kind(rendered, "ConfigMap")["tracker-config"]["data"]
    settings = _settings_from(data)
    assert settings.admins.users == ["alice", "bob"]
    assert settings.namespaces == ["lab-a", "lab-b"]
    assert settings.thresholds.heartbeat_timeout_seconds == 120
    assert settings.prices.frequent == 0.03
    assert settings.s3.endpoint_url == "http://minio:9000"
    assert settings.worker.image == "ghcr.io/workflow-tracker/workflow-tracker:0.1.0"
    assert (settings.worker.namespace, settings.worker.start_deadline_seconds) == ("tracker-system", 300)
    account = by_kind(rendered, "ServiceAccount")[settings.worker.service_account]
    assert account["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:x"}
    job = worker_job(
        lifecycle_job={
            "metadata": {"name": "d", "namespace": "lab-a", "uid": "u"},
            "spec": {"operation": "delete_outputs"},
        },
        namespace=settings.worker.namespace,
        run_id="r",
        settings=settings,
    )
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert {
        "name": "TRACKER_DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "tracker-database", "key": "url"}},
    } in container["env"]


def test_workers_run_in_the_release_namespace_with_the_charts_own_account() -> None:
    """The chart makes the worker's ServiceAccount (not the operator, per namespace), binds
    it cluster-wide to tracker-worker only, and lets the operator create and delete Jobs
    in the release namespace alone."""
    rendered = render("worker.startDeadlineSeconds=45")
    data = by_kind(rendered, "ConfigMap")["tracker-config"]["data"]
    assert (data["TRACKER_WORKER__NAMESPACE"], data["TRACKER_WORKER__START_DEADLINE_SECONDS"]) == (
        "tracker-system",
        "45",
    )
    assert "tracker-worker" in by_kind(rendered, "ServiceAccount")
    binding = by_kind(rendered, "ClusterRoleBinding")["tracker-worker"]
    assert binding["roleRef"]["name"] == "tracker-worker"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "tracker-worker", "namespace": "tracker-system"}]
    jobs = by_kind(rendered, "RoleBinding")["tracker-worker-jobs"]
    assert jobs["roleRef"]["name"] == "tracker-worker-jobs"
    assert jobs["subjects"][0]["name"] == "tracker-operator"
    operator_rules = by_kind(rendered, "ClusterRole")["tracker-operator"]["rules"]
    granted = {(r, v) for rule in operator_rules for r in rule["resources"] for v in rule["verbs"]}
    assert not granted & {
        ("serviceaccounts", "create"),
        ("rolebindings", "create"),
        ("clusterroles", "bind"),
        ("jobs", "create"),
        ("jobs", "delete"),
    }
    assert {("pods", "watch"), ("jobs", "watch")} <= granted
    with pytest.raises(AssertionError, match="startDeadlineSeconds"):
        render("worker.startDeadlineSeconds=0")


def _settings_from(data: dict[str, str]) -> Settings:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in data.items():
            patch.setenv(name, value)
        return Settings()


def test_templates_are_named_component_kind() -> None:
    pattern = re.compile(r"# Source: tracker/templates/([a-z]+)-([a-z]+)\.yaml\n(.*?)(?=\n---|\Z)", re.S)
    out = helm(
        "template",
        "tracker",
        str(CHART),
        "--kube-version",
        KUBE_VERSION,
        "--set=api.ingress.enabled=true",
        "--set=database.url=sqlite:///x",
    ).stdout
    seen = 0
    for _component, kind, body in pattern.findall(out):
        assert yaml.safe_load(body)["kind"].lower() == kind
        seen += 1
    files = sorted(p.name for p in (CHART / "templates").glob("*.yaml"))
    assert seen == len(files)
    assert all(re.fullmatch(r"[a-z]+-[a-z]+\.yaml", f) for f in files)


def test_values_schema_rejects_bad_values_with_a_readable_message() -> None:
    bad = helm("template", "t", str(CHART), "--kube-version", KUBE_VERSION, "--set=api.authMode=ldap", check=False)
    assert bad.returncode != 0
    assert "/api/authMode" in bad.stderr
    assert "kubernetes" in bad.stderr
    unknown = helm("template", "t", str(CHART), "--kube-version", KUBE_VERSION, "--set=operator.replica=2", check=False)
    assert unknown.returncode != 0
    assert "replica" in unknown.stderr
    token = helm("template", "t", str(CHART), "--kube-version", KUBE_VERSION, "--set=api.authMode=token", check=False)
    assert token.returncode != 0
    assert "api.tokensSecret is required" in token.stderr


def test_every_value_is_documented() -> None:
    """Each leaf of values.yaml has a `# --` comment above it or above its parent."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    documented_indents: list[int] = []
    undocumented = []
    for number, line in enumerate(lines):
        match = re.match(r"^( *)([A-Za-z][\w.]*):(.*)$", line)
        if not match:
            continue
        indent, key, rest = len(match[1]), match[2], match[3].strip()
        documented_indents = [i for i in documented_indents if i < indent]
        commented = number > 0 and lines[number - 1].strip().startswith("#")
        if commented:
            documented_indents.append(indent)
        is_leaf = rest != ""
        if is_leaf and not commented and not any(i < indent for i in documented_indents):
            undocumented.append(key)
    assert undocumented == []
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert set(schema["properties"]) == set(values)


def test_ingress_and_token_mode_render() -> None:
    rendered = render(
        "api.ingress.enabled=true",
        "api.ingress.host=t.example.org",
        "api.ingress.tlsSecret=t-tls",
        "api.authMode=token",
        "api.tokensSecret=api-tokens",
    )
    ingress = by_kind(rendered, "Ingress")["tracker-api"]
    assert ingress["spec"]["tls"] == [{"hosts": ["t.example.org"], "secretName": "t-tls"}]
    env = by_kind(rendered, "Deployment")["tracker-api"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {
        "name": "TRACKER_API__TOKENS",
        "valueFrom": {"secretKeyRef": {"name": "api-tokens", "key": "tokens"}},
    } in env
    assert "tracker-api" not in by_kind(rendered, "ClusterRole")  # no TokenReviews without kubernetes mode


def test_the_trace_receiver_is_configured_from_the_tower_values() -> None:
    rendered = render(
        "tower.basePath=/nextflow",
        "tower.defaultNamespace=genomics",
        '--set-json=tower.workspaces={"42": "lab"}',
        "tower.statusIntervalSeconds=5",
    )
    settings = _settings_from(by_kind(rendered, "ConfigMap")["tracker-config"]["data"])
    assert (settings.tower.enabled, settings.tower.base_path, settings.tower.runs) == (True, "/nextflow", "kubernetes")
    assert (settings.tower.default_namespace, settings.tower.workspaces) == ("genomics", {"42": "lab"})
    assert settings.tower.status_interval_seconds == 5
    assert (settings.api.auth_mode, settings.tower.auth_mode) == ("kubernetes", "api")  # trace tokens: as the API
    defaults = _settings_from(by_kind(render(), "ConfigMap")["tracker-config"]["data"]).tower
    assert (defaults.base_path, defaults.default_namespace, defaults.workspaces) == ("/tower", None, {})
    off = _settings_from(by_kind(render("tower.enabled=false"), "ConfigMap")["tracker-config"]["data"])
    assert off.tower.enabled is False
    bad = helm("template", "t", str(CHART), "--kube-version", KUBE_VERSION, "--set=tower.runs=etcd", check=False)
    assert bad.returncode != 0
    assert "/tower/runs" in bad.stderr


def _api_rights(*sets: str) -> tuple[set[str], bool]:
    """The ClusterRoles bound to the API's ServiceAccount, and whether it gets its token."""
    rendered = render(*sets)
    account = by_kind(rendered, "ServiceAccount")["tracker-api"]
    subject = {"kind": "ServiceAccount", "name": "tracker-api", "namespace": "tracker-system"}
    bound = {b["roleRef"]["name"] for b in by_kind(rendered, "ClusterRoleBinding").values() if subject in b["subjects"]}
    assert bound <= set(by_kind(rendered, "ClusterRole"))
    return bound, account["automountServiceAccountToken"]


def test_the_api_writes_workflow_runs_only_when_the_receiver_makes_them() -> None:
    """tracker-api-runs is bound to the API when tower.runs is kubernetes, whatever the
    authentication mode, and the API pod then has its service-account token."""
    assert _api_rights() == ({"tracker-api", "tracker-api-runs"}, True)
    assert _api_rights("api.authMode=token", "api.tokensSecret=t") == ({"tracker-api-runs"}, True)
    assert _api_rights("api.authMode=none") == ({"tracker-api-runs"}, True)
    assert _api_rights("tower.runs=index") == ({"tracker-api"}, True)
    assert _api_rights("tower.enabled=false") == ({"tracker-api"}, True)
    assert _api_rights("api.authMode=none", "tower.runs=index") == (set(), False)
    assert _api_rights("api.authMode=token", "api.tokensSecret=t", "tower.enabled=false") == (set(), False)
    deployment = by_kind(render(), "Deployment")["tracker-api"]["spec"]["template"]["spec"]
    assert deployment["serviceAccountName"] == "tracker-api"
    assert deployment.get("automountServiceAccountToken", True) is True
    no_api = render("api.enabled=false")
    assert "tracker-api-runs" not in by_kind(no_api, "ClusterRole")
    assert "tracker-api-runs" not in by_kind(no_api, "ClusterRoleBinding")
