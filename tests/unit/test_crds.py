"""The CRDs in crds/ honour the product contract (SPEC sections 1-3), offline.

The apiserver-side behaviour (CEL rules, printer columns as kubectl prints them) is
checked against a real control plane in tests/cluster/test_crds_apiserver.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from tracker.domain.records import JobCounters, camel

CRD_DIR = Path(__file__).resolve().parents[2] / "crds"
WFR_FILE = CRD_DIR / "workflowruns.tracker.dev.yaml"
OLJ_FILE = CRD_DIR / "outputlifecyclejobs.tracker.dev.yaml"

Schema = dict[str, Any]


def load(path: Path) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert len(docs) == 1, f"{path.name} must hold exactly one document"
    return docs[0]


@pytest.fixture(scope="module")
def wfr() -> dict[str, Any]:
    return load(WFR_FILE)


@pytest.fixture(scope="module")
def olj() -> dict[str, Any]:
    return load(OLJ_FILE)


@pytest.fixture(params=["wfr", "olj"], scope="module")
def crd(request: pytest.FixtureRequest) -> dict[str, Any]:
    return request.getfixturevalue(request.param)


def version(crd: dict[str, Any]) -> dict[str, Any]:
    (v,) = crd["spec"]["versions"]
    return v


def schema(crd: dict[str, Any]) -> Schema:
    return version(crd)["schema"]["openAPIV3Schema"]


def at(crd: dict[str, Any], dotted: str) -> Schema:
    """The schema node for a dotted field path, e.g. 'status.processes[].name'."""
    node = schema(crd)
    for part in dotted.split("."):
        items = part.endswith("[]")
        node = node["properties"][part.removesuffix("[]")]
        if items:
            node = node["items"]
    return node


def walk(node: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    """Every schema node below (and including) node, with its dotted path."""
    yield path or "<root>", node
    for name, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}" if path else name)
    if "items" in node:
        yield from walk(node["items"], f"{path}[]")


def rules(node: Schema) -> list[dict[str, str]]:
    return node.get("x-kubernetes-validations", [])


# --- identity: what kubectl and the operator address the kinds by ------------------------


@pytest.mark.parametrize(
    ("fixture", "kind", "plural", "singular", "short"),
    [
        ("wfr", "WorkflowRun", "workflowruns", "workflowrun", "wfr"),
        ("olj", "OutputLifecycleJob", "outputlifecyclejobs", "outputlifecyclejob", "olj"),
    ],
)
def test_names_group_and_scope(
    request: pytest.FixtureRequest, fixture: str, kind: str, plural: str, singular: str, short: str
) -> None:
    crd = request.getfixturevalue(fixture)
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == f"{plural}.tracker.dev"
    assert crd["spec"]["group"] == "tracker.dev"
    assert crd["spec"]["scope"] == "Namespaced"
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["singular"]) == (kind, plural, singular)
    assert names["shortNames"] == [short]
    assert names["categories"] == ["tracker"], "kubectl get tracker must list both kinds"


def test_file_names_match_crd_names(wfr: dict[str, Any], olj: dict[str, Any]) -> None:
    ours = sorted(p.name for p in CRD_DIR.glob("*.tracker.dev.yaml"))
    assert ours == sorted([f"{wfr['metadata']['name']}.yaml", f"{olj['metadata']['name']}.yaml"])
    # Besides ours, only kopf's peering CRDs (for several operator replicas) live there.
    assert sorted(p.name for p in CRD_DIR.glob("*.yaml")) == sorted([*ours, "kopf-peering.yaml"])


def test_single_served_storage_version_with_status_subresource(crd: dict[str, Any]) -> None:
    v = version(crd)
    assert v["name"] == "v1alpha1"
    assert v["served"] is True
    assert v["storage"] is True
    # Runners and the operator write status through the subresource; users cannot.
    assert v["subresources"] == {"status": {}}


# --- printer columns --------------------------------------------------------------------


def columns(crd: dict[str, Any], *, wide: bool) -> list[tuple[str, str]]:
    return [
        (c["name"], c["jsonPath"])
        for c in version(crd)["additionalPrinterColumns"]
        if (c.get("priority", 0) > 0) == wide
    ]


def test_workflowrun_columns_are_those_kubectl_get_wfr_shows(wfr: dict[str, Any]) -> None:
    assert columns(wfr, wide=False) == [
        ("Run", ".spec.runName"),
        ("State", ".status.state"),
        ("Owner", ".spec.owner"),
        ("Cluster", ".spec.cluster"),
        ("Last Heartbeat", ".status.lastHeartbeatTime"),
        ("Outputs", ".status.outputs.size"),
        ("Age", ".metadata.creationTimestamp"),
    ]
    assert columns(wfr, wide=True) == [("Engine", ".spec.engine"), ("Id", ".status.id")]


def test_outputlifecyclejob_columns(olj: dict[str, Any]) -> None:
    assert columns(olj, wide=False) == [
        ("Run", ".spec.run"),
        ("Operation", ".spec.operation"),
        ("Phase", ".status.phase"),
        ("Reason", ".status.reason"),
        ("Requested By", ".spec.requestedBy"),
        ("Age", ".metadata.creationTimestamp"),
    ]
    assert columns(olj, wide=True) == [
        ("Job Id", ".status.jobId"),
        ("Kubernetes Job", ".status.kubernetesJob"),
        ("Shards", ".status.shardCount"),
        ("Deleted", ".status.objectsDeleted"),
    ]


def test_time_columns_render_as_relative_ages(crd: dict[str, Any]) -> None:
    for column in version(crd)["additionalPrinterColumns"]:
        leaf = column["jsonPath"].rsplit(".", 1)[-1]
        is_time = leaf in {"creationTimestamp", "lastHeartbeatTime"}
        assert (column["type"] == "date") == is_time, column["name"]


def test_every_printer_column_points_at_a_schema_field(crd: dict[str, Any]) -> None:
    for column in version(crd)["additionalPrinterColumns"]:
        path = column["jsonPath"].lstrip(".")
        if path.startswith("metadata."):
            continue
        node = at(crd, path)
        assert node["type"] in {"string", "integer", "number"}, column["name"]


# --- WorkflowRun fields (SPEC section 2) -------------------------------------------------


def test_workflowrun_required_fields(wfr: dict[str, Any]) -> None:
    assert schema(wfr)["required"] == ["spec"]
    assert sorted(at(wfr, "spec")["required"]) == ["owner", "runName"]
    for field in ("runName", "owner"):
        assert at(wfr, f"spec.{field}")["minLength"] == 1, f"{field} must be non-empty"


def test_workflowrun_spec_fields(wfr: dict[str, Any]) -> None:
    spec = at(wfr, "spec")["properties"]
    assert set(spec) == {
        "runName",
        "owner",
        "cluster",
        "engine",
        "workflow",
        "workDir",
        "outputDir",
        "sessionId",
        "commandLine",
        "params",
        "configText",
        "heartbeatTimeoutSeconds",
        "stalledAfterSeconds",
    }
    assert set(spec["workflow"]["properties"]) == {"repository", "revision", "commit"}
    assert spec["engine"]["enum"] == ["nextflow", "wdl", "other"]
    assert spec["params"]["type"] == "object"
    assert spec["params"]["x-kubernetes-preserve-unknown-fields"] is True
    for field in ("heartbeatTimeoutSeconds", "stalledAfterSeconds"):
        assert spec[field]["type"] == "integer"
        assert spec[field]["minimum"] == 1


def test_run_name_is_immutable(wfr: dict[str, Any]) -> None:
    (rule,) = rules(at(wfr, "spec.runName"))
    assert rule["rule"].replace(" ", "") == "self==oldSelf"
    assert "immutable" in rule["message"]


def test_workflowrun_status_fields(wfr: dict[str, Any]) -> None:
    status = at(wfr, "status")["properties"]
    assert set(status) == {
        # runner-reported
        "phase",
        "lastHeartbeatTime",
        "startedAt",
        "completedAt",
        "errorMessage",
        "peakConcurrency",
        "cost",
        "processes",
        # operator-derived
        "conditions",
        "state",
        "outputs",
        "id",
        "observedGeneration",
        "tasksTerminalSince",
    }
    assert status["phase"]["enum"] == ["Submitted", "Running", "Succeeded", "Failed", "Aborted"]
    for field in ("lastHeartbeatTime", "startedAt", "completedAt"):
        assert status[field]["format"] == "date-time"
    assert status["cost"]["type"] == "number"
    assert set(status["outputs"]["properties"]) == {
        "count",
        "bytes",
        "annualCostLow",
        "annualCostHigh",
        "indexedAt",
        "deletedAt",
        "deletedBy",
        "size",
    }
    outputs = status["outputs"]["properties"]
    assert outputs["bytes"]["format"] == "int64"
    assert outputs["annualCostLow"]["type"] == outputs["annualCostHigh"]["type"] == "number"
    assert outputs["indexedAt"]["format"] == outputs["deletedAt"]["format"] == "date-time"


def test_processes_are_a_map_keyed_by_name_with_non_negative_counts(wfr: dict[str, Any]) -> None:
    processes = at(wfr, "status.processes")
    assert processes["x-kubernetes-list-type"] == "map"
    assert processes["x-kubernetes-list-map-keys"] == ["name"]
    item = processes["items"]
    assert item["required"] == ["name"]
    counts = {k: v for k, v in item["properties"].items() if k != "name"}
    assert set(counts) == {
        "succeeded",
        "failed",
        "aborted",
        "running",
        "cached",
        "retried",
        "submitted",
        "pending",
    }
    for name, count in counts.items():
        assert (count["type"], count["minimum"]) == ("integer", 0), name


# --- OutputLifecycleJob fields (SPEC section 3) ------------------------------------------


def test_outputlifecyclejob_spec(olj: dict[str, Any]) -> None:
    assert schema(olj)["required"] == ["spec"]
    spec = at(olj, "spec")
    assert sorted(spec["required"]) == ["operation", "requestedBy", "run"]
    props = spec["properties"]
    assert set(props) == {
        "run",
        "operation",
        "destination",
        "requestedBy",
        "requestedByGroups",
        "dryRun",
    }
    assert props["operation"]["enum"] == [
        "delete_outputs",
        "move_outputs",
        "mark_outputs_deleted",
        "rewrite_output_paths",
        "index_outputs",
    ]
    assert props["run"]["minLength"] == props["requestedBy"]["minLength"] == 1
    assert props["requestedByGroups"]["items"]["type"] == "string"
    assert props["dryRun"] == props["dryRun"] | {"type": "boolean", "default": False}


def test_outputlifecyclejob_status(olj: dict[str, Any]) -> None:
    status = at(olj, "status")["properties"]
    counters = {camel(f.name) for f in fields(JobCounters)}
    assert set(status) == counters | {
        "jobId",
        "phase",
        "reason",
        "message",
        "runId",
        "startedAt",
        "completedAt",
        "kubernetesJob",
        "kubernetesJobNamespace",
        "workerStartDeadline",
        "conditions",
        "observedGeneration",
        "source",
        "destination",
        "activeJob",
        "shardCount",
        "shards",
    }
    assert all(node.get("description") for _, node in walk(at(olj, "status")) if _ != "<root>")
    assert status["phase"]["enum"] == ["Enqueued", "Running", "Succeeded", "Failed"]
    for name in counters:
        assert (status[name]["type"], status[name]["format"], status[name]["minimum"]) == (
            "integer",
            "int64",
            0,
        ), name


def test_a_shards_entry_has_every_counter_its_range_and_phase(olj: dict[str, Any]) -> None:
    entry = at(olj, "status.shards")["additionalProperties"]["properties"]
    counters = {camel(f.name) for f in fields(JobCounters)}
    assert set(entry) == counters | {"phase", "reason", "message", "after", "upto", "startedAt", "completedAt"}
    assert entry["phase"]["enum"] == ["Pending", "Running", "Succeeded", "Failed", "Stopped"]
    assert all(entry[name]["format"] == "int64" for name in counters)


def test_spec_is_immutable_with_an_actionable_message(olj: dict[str, Any]) -> None:
    transition = [r for r in rules(at(olj, "spec")) if "oldSelf" in r["rule"]]
    assert transition == [{"rule": "self == oldSelf", "message": "spec is immutable: create a new OutputLifecycleJob"}]


def test_destination_and_dry_run_rules_name_the_operations(olj: dict[str, Any]) -> None:
    messages = [r["message"] for r in rules(at(olj, "spec")) if "oldSelf" not in r["rule"]]
    destination = [m for m in messages if m.startswith("destination")]
    assert len(destination) == 2, "one rule requires destination, one forbids it"
    assert all("move_outputs" in m and "rewrite_output_paths" in m for m in destination)
    (dry_run,) = [m for m in messages if m.startswith("dryRun")]
    assert "delete_outputs" in dry_run
    assert "move_outputs" in dry_run


def test_conditions_follow_metav1_condition(crd: dict[str, Any]) -> None:
    conditions = at(crd, "status.conditions")
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    item = conditions["items"]
    assert set(item["properties"]) == {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
        "observedGeneration",
    }
    assert item["properties"]["status"]["enum"] == ["True", "False", "Unknown"]
    assert item["properties"]["lastTransitionTime"]["format"] == "date-time"
    assert {"type", "status"} <= set(item["required"])


def test_status_observed_generation(crd: dict[str, Any]) -> None:
    node = at(crd, "status.observedGeneration")
    assert (node["type"], node["format"]) == ("integer", "int64")


# --- S3 URL rules ------------------------------------------------------------------------

URL_FIELDS = [("wfr", "spec.outputDir"), ("wfr", "spec.workDir"), ("olj", "spec.destination")]


@pytest.mark.parametrize(("fixture", "field"), URL_FIELDS)
def test_url_rules_have_messages_naming_the_field(request: pytest.FixtureRequest, fixture: str, field: str) -> None:
    node = at(request.getfixturevalue(fixture), field)
    name = field.rsplit(".", 1)[-1]
    assert node["maxLength"] == 2048
    assert rules(node), f"{field} must be validated"
    for rule in rules(node):
        assert rule["message"].startswith(f"{name} must "), rule
        assert "s3://" in rule["rule"] or "matches" in rule["rule"]


def test_prefix_messages_say_the_url_must_end_in_a_slash(wfr: dict[str, Any], olj: dict[str, Any]) -> None:
    assert rules(at(wfr, "spec.outputDir"))[0]["message"] == (
        "outputDir must be an s3://bucket/prefix/ URL ending in '/'"
    )
    assert rules(at(olj, "spec.destination"))[0]["message"] == (
        "destination must be an s3://bucket/prefix/ URL ending in '/'"
    )


def bucket_regex(node: Schema) -> re.Pattern[str]:
    (pattern,) = [m.group(1) for r in rules(node) if (m := re.search(r"matches\('([^']*)'\)", r["rule"]))]
    return re.compile(pattern)


@pytest.mark.parametrize(("fixture", "field"), URL_FIELDS)
@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("s3://my-bucket/runs/foo-run-001/", True),
        ("s3://my-bucket/", True),  # bucket roots pass the schema; deletes refuse them at runtime
        ("s3://a.b-c.d1/x/", True),
        ("s3://abc/", True),
        ("s3://ab/", False),  # too short
        ("s3://" + "a" * 64 + "/", False),  # too long
        ("s3://My-Bucket/x/", False),  # upper case
        ("s3://-bucket/x/", False),
        ("s3://bucket-/x/", False),
        ("s3://bucket_name/x/", False),
    ],
)
def test_bucket_names_follow_s3_rules(
    request: pytest.FixtureRequest, fixture: str, field: str, url: str, valid: bool
) -> None:
    # CEL matches() is RE2; this pattern uses only syntax Python's re reads the same way.
    regex = bucket_regex(at(request.getfixturevalue(fixture), field))
    assert bool(regex.search(url)) is valid


# --- structural schema and documentation -------------------------------------------------


def test_every_property_has_a_description(crd: dict[str, Any]) -> None:
    missing = [
        path for path, node in walk(schema(crd)) if path != "metadata" and not node.get("description", "").strip()
    ]
    assert missing == [], f"shown by kubectl explain, so every field needs one: {missing}"


def test_metadata_is_left_to_the_apiserver(crd: dict[str, Any]) -> None:
    # The apiserver refuses anything but name/generateName constraints here, even a description.
    assert at(crd, "metadata") == {"type": "object"}


def test_schema_is_structural(crd: dict[str, Any]) -> None:
    for path, node in walk(schema(crd)):
        assert "type" in node, f"{path} has no type"
        assert not ("properties" in node and "additionalProperties" in node), path
        if node["type"] == "array":
            assert "items" in node, path
        for name in node.get("required", []):
            assert name in node["properties"], f"{path} requires unknown field {name}"
        for key in node.get("x-kubernetes-list-map-keys", []):
            assert key in node["items"]["required"], f"{path}: map key {key} must be required"
        for rule in rules(node):
            assert rule.get("message"), f"{path}: every CEL rule needs a readable message"


def test_fields_under_cel_rules_are_bounded(crd: dict[str, Any]) -> None:
    """Unbounded strings or lists under a CEL rule make the apiserver refuse the CRD."""
    for path, node in walk(schema(crd)):
        if not rules(node):
            continue
        for sub_path, sub in walk(node, path):
            if sub["type"] == "string" and "enum" not in sub:
                assert "maxLength" in sub, f"{sub_path} needs maxLength (CEL cost)"
            if sub["type"] == "array":
                assert "maxItems" in sub, f"{sub_path} needs maxItems (CEL cost)"


@pytest.mark.parametrize("top", ["spec", "status"])
def test_every_string_and_list_is_bounded(crd: dict[str, Any], top: str) -> None:
    """Clients get a clear 422 instead of an object too big for etcd or the index."""
    for path, node in walk(at(crd, top), top):
        if node["type"] == "string" and not {"enum", "format"} & set(node):
            assert "maxLength" in node, path
        if node["type"] == "array":
            assert "maxItems" in node, path
