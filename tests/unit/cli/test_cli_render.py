"""Tables, ages and output formats as kubectl prints them, offline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tracker.cli import render

NOW = datetime(2026, 5, 13, 19, 0, 0, tzinfo=UTC)
CRD_DIR = Path(__file__).resolve().parents[3] / "crds"


def run(name: str, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "tracker.dev/v1alpha1",
        "kind": "WorkflowRun",
        "metadata": {
            "name": name,
            "namespace": "lab",
            "creationTimestamp": "2026-05-13T18:00:00Z",
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {"runName": name.replace("-", "_"), "owner": "alice", "cluster": "hpc-a", "engine": "nextflow"},
        "status": status,
    }


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (59.9, "59s"),
        (119, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (599, "9m59s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60, "3h1m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (49 * 3600, "2d1h"),
        (8 * 86400, "8d"),
        (730 * 86400, "2y"),
        (731 * 86400, "2y1d"),
        (8 * 365 * 86400, "8y"),
    ],
)
def test_ages_follow_kubectl(seconds: float, expected: str) -> None:
    assert render.human_duration(seconds) == expected


def test_age_of_a_timestamp_and_of_nothing() -> None:
    assert render.age("2026-05-13T18:59:30Z", NOW) == "30s"
    assert render.age(None, NOW) == "<unknown>"


def test_table_pads_like_kubectls_tabwriter() -> None:
    # width = max(longest cell + 3, 6); the last column is not padded, empty cells are blank
    assert render.table([["NAME", "AB", "LAST"], ["x", "", "y"], ["longer-name", "a", ""]]) == (
        "NAME          AB    LAST\nx                   y\nlonger-name   a     \n"
    )


def test_runs_table_has_the_crd_printer_columns_with_blank_missing_values() -> None:
    objs = [
        run(
            "foo-run-001",
            state="Running",
            lastHeartbeatTime="2026-05-13T18:59:50Z",
            outputs={"size": "9.2 GiB"},
            id="550e8400",
        ),
        run("b"),
    ]
    assert render.render(objs, "WorkflowRun", None, now=NOW) == (
        "NAME          RUN           STATE     OWNER   CLUSTER   LAST HEARTBEAT   OUTPUTS   AGE\n"
        "foo-run-001   foo_run_001   Running   alice   hpc-a     10s              9.2 GiB   60m\n"
        "b             b                       alice   hpc-a                                60m\n"
    )
    wide = render.render(objs[:1], "WorkflowRun", "wide", with_namespace=True, now=NOW)
    assert wide.splitlines()[0].split("   ")[0] == "NAMESPACE"
    assert wide.splitlines()[0].endswith("AGE   ENGINE     ID")
    assert wide.splitlines()[1].startswith("lab         foo-run-001")
    assert wide.splitlines()[1].endswith("nextflow   550e8400")


def test_multiline_values_show_their_first_line() -> None:
    job = {
        "kind": "OutputLifecycleJob",
        "metadata": {"name": "j"},
        "spec": {"run": "r", "operation": "delete_outputs", "requestedBy": "alice"},
        "status": {"phase": "Failed", "reason": "Oops\nmore"},
    }
    assert "Oops..." in render.render([job], "OutputLifecycleJob", None, now=NOW)


@pytest.mark.parametrize(
    ("kind", "file", "columns"),
    [
        ("WorkflowRun", "workflowruns.tracker.dev.yaml", render.RUN_COLUMNS),
        ("OutputLifecycleJob", "outputlifecyclejobs.tracker.dev.yaml", render.JOB_COLUMNS),
    ],
)
def test_columns_are_the_crds_printer_columns(kind: str, file: str, columns: tuple[render.Column, ...]) -> None:
    crd = yaml.safe_load((CRD_DIR / file).read_text())
    printer = crd["spec"]["versions"][0]["additionalPrinterColumns"]
    assert [(c["name"], c["jsonPath"], c["type"], c.get("priority", 0)) for c in printer] == [
        (c.name, "." + ".".join(c.path), c.type, c.priority) for c in columns
    ]
    assert render.COLUMNS[kind] == columns


def test_json_yaml_and_name_outputs() -> None:
    obj = run("foo")
    single = json.loads(render.render([obj], "WorkflowRun", "json", single=True))
    assert single["metadata"]["name"] == "foo"
    assert "managedFields" not in single["metadata"]
    listed = yaml.safe_load(render.render([obj, run("bar")], "WorkflowRun", "yaml"))
    assert listed["kind"] == "List"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["foo", "bar"]
    assert render.render([obj], "WorkflowRun", "name") == "workflowrun.tracker.dev/foo\n"
    assert render.to_json({"b": 1, "a": 2}) == '{\n    "a": 2,\n    "b": 1\n}\n'


def test_a_watch_keeps_the_tables_column_widths() -> None:
    printer = render.Table([["NAME", "PHASE"], ["a", "Running"]])
    assert printer.format([["b", "Succeeded"]]) == "b      Succeeded\n"
    assert printer.format([["much-longer-name", "x"]]) == "much-longer-name   x\n"
