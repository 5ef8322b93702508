"""`/api/v1/runs`: filters, sorting, pagination, the Run Detail data, processes,
outputs (browse and search), a run's jobs, and the 404/409/422 answers."""

from __future__ import annotations

from typing import Any

import pytest
from api_seed import (
    BAR_ID,
    FOO_ID,
    GIB,
    JOB_DELETE_FOO,
    JOB_INDEX_FOO,
    OLD_ID,
    TWIN_A_ID,
    TWIN_B_ID,
)
from fastapi.testclient import TestClient

from tracker.api.paths import RUN, RUN_JOBS, RUN_OUTPUTS, RUN_PROCESSES, RUNS, api_path

ALL_NEWEST_FIRST = [TWIN_B_ID, TWIN_A_ID, BAR_ID, FOO_ID, OLD_ID]


def ids(client: TestClient, **params: Any) -> list[str]:
    response = client.get(api_path(RUNS), params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_list_newest_first_with_total(client: TestClient) -> None:
    body = client.get(api_path(RUNS)).json()
    assert [i["id"] for i in body["items"]] == ALL_NEWEST_FIRST
    assert (body["total"], body["limit"], body["offset"]) == (5, 50, 0)
    foo = body["items"][3]
    assert foo["runName"] == "foo-run-001"
    assert foo["state"] == "Succeeded"
    assert foo["outputs"]["count"] == 4
    assert foo["outputs"]["size"] == "1.0 GiB"
    assert foo["durationSeconds"] == 3600


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "Stalled"}, [BAR_ID]),
        ({"state": ["Succeeded", "Disconnected"]}, [TWIN_B_ID, FOO_ID, OLD_ID]),
        ({"owner": "alice"}, [FOO_ID, OLD_ID]),
        ({"cluster": "hpc-east"}, [TWIN_B_ID, TWIN_A_ID, FOO_ID]),
        ({"label": "team=rna"}, [FOO_ID]),
        ({"label": ["team=rna", "app.kubernetes.io/part-of=rnaseq"]}, [FOO_ID]),
        ({"label": ["team=rna", "team2=x"]}, []),
        ({"name": "RUN-00"}, [BAR_ID, FOO_ID]),
        ({"name": "abc12"}, [FOO_ID]),  # the resource name counts too
        ({"namespace": "lab-a"}, [TWIN_A_ID]),
        ({"created_after": "2026-05-13T19:02:00Z"}, [TWIN_B_ID, TWIN_A_ID, BAR_ID]),
        ({"created_before": "2026-05-13T19:02:00Z"}, [FOO_ID, OLD_ID]),
        (
            {"created_after": "2026-05-13T21:01:00+02:00", "created_before": "2026-05-13T19:04:00"},
            [TWIN_A_ID, BAR_ID, FOO_ID],
        ),  # an offset, and a naive time taken as UTC
        ({"owner": "alice", "cluster": "hpc-west"}, [OLD_ID]),
        ({"owner": "nobody"}, []),
        ({"owner": "a\x00b"}, []),
        ({"created_after": "0001-01-01T00:00:00+01:00"}, ALL_NEWEST_FIRST),
        ({"created_before": "9999-12-31T23:59:59-01:00"}, ALL_NEWEST_FIRST),
    ],
)
def test_filters(client: TestClient, params: dict[str, Any], expected: list[str]) -> None:
    assert ids(client, **params) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("run_name", [BAR_ID, FOO_ID, OLD_ID, TWIN_A_ID, TWIN_B_ID]),
        ("-run_name", [TWIN_B_ID, TWIN_A_ID, OLD_ID, FOO_ID, BAR_ID]),
        ("created_at", list(reversed(ALL_NEWEST_FIRST))),
        ("-outputs_bytes", [FOO_ID, TWIN_B_ID, TWIN_A_ID, BAR_ID, OLD_ID]),  # ties: by id, same direction
        ("cost", [FOO_ID, OLD_ID, BAR_ID, TWIN_A_ID, TWIN_B_ID]),  # no cost sorts last
    ],
)
def test_sort(client: TestClient, sort: str, expected: list[str]) -> None:
    assert ids(client, sort=sort) == expected


def test_pagination(client: TestClient) -> None:
    body = client.get(api_path(RUNS), params={"limit": 2, "offset": 1}).json()
    assert [i["id"] for i in body["items"]] == ALL_NEWEST_FIRST[1:3]
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 1)
    counted = client.get(api_path(RUNS), params={"limit": 0}).json()
    assert counted["items"] == []
    assert counted["total"] == 5
    assert client.get(api_path(RUNS), params={"offset": 10}).json()["items"] == []


@pytest.mark.parametrize(
    ("params", "where", "says"),
    [
        ({"sort": "colour"}, "query parameter 'sort'", "'-created_at'"),
        ({"sort": "-id"}, "query parameter 'sort'", "'outputs_count'"),
        ({"limit": 1001}, "query parameter 'limit'", "less than or equal to 1000"),
        ({"limit": "ten"}, "query parameter 'limit'", "valid integer"),
        ({"offset": -1}, "query parameter 'offset'", "greater than or equal to 0"),
        ({"state": "running"}, "query parameter 'state.0'", "'Running'"),
        ({"label": "team"}, "query parameter 'label.0'", "should match pattern"),
        ({"label": "Bad_Prefix/x=y"}, "query parameter 'label.0'", "should match pattern"),
        ({"created_after": "yesterday"}, "query parameter 'created_after'", "datetime"),
    ],
)
def test_bad_parameters_are_422_with_a_readable_message(
    client: TestClient, params: dict[str, Any], where: str, says: str
) -> None:
    response = client.get(api_path(RUNS), params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith(where), body["detail"]
    assert says in body["detail"], body["detail"]
    assert body["errors"][0]["loc"][0] == "query"


def test_detail_by_name_and_by_id(client: TestClient) -> None:
    by_name = client.get(api_path(RUN, run="foo-run-001"))
    assert by_name.status_code == 200, by_name.text
    assert client.get(api_path(RUN, run=FOO_ID)).json() == by_name.json()
    run = by_name.json()
    assert {k: run[k] for k in ("id", "namespace", "name", "runName", "owner", "cluster", "engine")} == {
        "id": FOO_ID,
        "namespace": "genomics",
        "name": "foo-abc12",
        "runName": "foo-run-001",
        "owner": "alice",
        "cluster": "hpc-east",
        "engine": "nextflow",
    }
    assert run["workflow"] == {
        "repository": "https://github.com/nf-core/rnaseq",
        "revision": "3.14",
        "commit": "abc123def",
    }
    assert run["workDir"] == "s3://work/foo/"
    assert run["outputDir"] == "s3://bucket/runs/foo/"
    assert run["params"] == {"genome": "GRCh38", "reads": ["a_R1.fq", "a_R2.fq"]}
    assert run["configText"] == "process.executor = 'awsbatch'"
    assert run["sessionId"] == "sess-2"
    assert run["labels"] == {"team": "rna", "app.kubernetes.io/part-of": "rnaseq"}
    assert (run["phase"], run["state"], run["disconnected"], run["stalled"]) == ("Succeeded", "Succeeded", False, False)
    assert run["conditions"] == [
        {
            "type": "OutputsIndexed",
            "status": "True",
            "reason": "Indexed",
            "message": "4 objects",
            "lastTransitionTime": "2026-05-13T20:03:00Z",
        }
    ]
    assert (run["createdAt"], run["startedAt"], run["completedAt"]) == (
        "2026-05-13T19:01:00Z",
        "2026-05-13T19:02:00Z",
        "2026-05-13T20:02:00Z",
    )
    assert run["durationSeconds"] == 3600
    assert run["peakConcurrency"] == 24
    assert run["cost"] == 3.5
    assert [p["name"] for p in run["processes"]] == ["FASTQC", "ALIGN"]
    assert run["processes"][0] | {"succeeded": 4, "cached": 1} == run["processes"][0]


def test_detail_outputs_summary_with_cost_per_tier(client: TestClient) -> None:
    outputs = client.get(api_path(RUN, run="foo-run-001")).json()["outputs"]
    size = GIB + 2000
    assert (outputs["count"], outputs["bytes"], outputs["size"]) == (4, size, "1.0 GiB")
    tiers = outputs["annualCostByTier"]
    assert tiers["frequent"] == pytest.approx(size / GIB * 12 * 0.021)
    assert tiers["infrequent"] == pytest.approx(size / GIB * 12 * 0.0125)
    assert tiers["archiveInstant"] == pytest.approx(size / GIB * 12 * 0.004)
    assert (outputs["annualCostLow"], outputs["annualCostHigh"]) == (tiers["archiveInstant"], tiers["frequent"])
    assert outputs["indexedAt"] == "2026-05-13T20:04:00Z"
    assert (outputs["deleted"], outputs["deletedAt"], outputs["deletedBy"]) == (False, None, None)


def test_detail_of_deleted_outputs_costs_nothing(client: TestClient) -> None:
    outputs = client.get(api_path(RUN, run="old-run")).json()["outputs"]
    assert outputs["deleted"] is True
    assert outputs["size"] == "Deleted"
    assert (outputs["deletedAt"], outputs["deletedBy"]) == ("2026-05-13T19:11:00Z", "alice")
    assert (outputs["count"], outputs["bytes"], outputs["annualCostLow"], outputs["annualCostHigh"]) == (0, 0, 0, 0)
    assert set(outputs["annualCostByTier"].values()) == {0}


def test_detail_resume_history_newest_first(client: TestClient) -> None:
    executions = client.get(api_path(RUN, run=FOO_ID)).json()["executions"]
    assert [(e["current"], e["startedAt"], e["phase"], e["sessionId"]) for e in executions] == [
        (True, "2026-05-13T19:02:00Z", "Succeeded", "sess-2"),
        (False, "2026-05-13T19:00:00Z", "Failed", "sess-1"),
    ]
    assert executions[1]["errorMessage"] == "BWA_MEM exited 137"
    assert executions[1]["durationSeconds"] == 60
    assert client.get(api_path(RUN, run="twin"), params={"namespace": "lab-a"}).json()["executions"] == []


def test_detail_flags_stalled_and_running_duration(client: TestClient) -> None:
    run = client.get(api_path(RUN, run="bar-run-002")).json()
    assert (run["state"], run["stalled"], run["disconnected"]) == ("Stalled", True, False)
    assert run["durationSeconds"] > 0
    assert run["completedAt"] is None


def test_unknown_run_is_404(client: TestClient) -> None:
    for template in (RUN, RUN_PROCESSES, RUN_OUTPUTS, RUN_JOBS):
        response = client.get(api_path(template, run="no-such-run"))
        assert response.status_code == 404
        assert response.json() == {"detail": "no run 'no-such-run' in the index"}
    elsewhere = client.get(api_path(RUN, run="foo-run-001"), params={"namespace": "lab-a"})
    assert elsewhere.status_code == 404
    assert elsewhere.json() == {"detail": "no run 'foo-run-001' in namespace 'lab-a'"}
    assert client.get(api_path(RUN, run="a\x00b")).status_code == 404


def test_ambiguous_run_name_is_409_until_a_namespace_is_given(client: TestClient) -> None:
    for template in (RUN, RUN_PROCESSES, RUN_OUTPUTS, RUN_JOBS):
        response = client.get(api_path(template, run="twin"))
        assert response.status_code == 409
        assert response.json() == {
            "detail": "run name 'twin' exists in several namespaces (lab-a, lab-b): give a namespace or use the run id",
            "candidates": [
                {
                    "id": TWIN_A_ID,
                    "namespace": "lab-a",
                    "name": "twin",
                    "runName": "twin",
                    "url": api_path(RUN, run=TWIN_A_ID),
                },
                {
                    "id": TWIN_B_ID,
                    "namespace": "lab-b",
                    "name": "twin",
                    "runName": "twin",
                    "url": api_path(RUN, run=TWIN_B_ID),
                },
            ],
        }
    assert client.get(api_path(RUN, run="twin"), params={"namespace": "lab-b"}).json()["id"] == TWIN_B_ID
    assert client.get(api_path(RUN, run=TWIN_A_ID)).json()["namespace"] == "lab-a"


def test_each_candidate_of_an_ambiguous_name_links_to_its_run(client: TestClient) -> None:
    candidates = client.get(api_path(RUN, run="twin")).json()["candidates"]
    assert len(candidates) == 2
    for candidate in candidates:
        run = client.get(candidate["url"])
        assert run.status_code == 200
        assert (run.json()["id"], run.json()["namespace"]) == (candidate["id"], candidate["namespace"])


def test_processes(client: TestClient) -> None:
    body = client.get(api_path(RUN_PROCESSES, run="foo-run-001")).json()
    assert body["runId"] == FOO_ID
    assert body["items"] == [
        {
            "name": "FASTQC",
            "succeeded": 4,
            "failed": 0,
            "aborted": 0,
            "running": 0,
            "cached": 1,
            "retried": 0,
            "submitted": 0,
            "pending": 0,
        },
        {
            "name": "ALIGN",
            "succeeded": 2,
            "failed": 0,
            "aborted": 0,
            "running": 0,
            "cached": 0,
            "retried": 1,
            "submitted": 0,
            "pending": 0,
        },
    ]


def outputs(client: TestClient, run: str = "foo-run-001", **params: Any) -> dict[str, Any]:
    response = client.get(api_path(RUN_OUTPUTS, run=run), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_outputs_browse_root(client: TestClient) -> None:
    body = outputs(client)
    assert (body["runId"], body["outputDir"], body["dir"], body["total"], body["more"]) == (
        FOO_ID,
        "s3://bucket/runs/foo/",
        "",
        None,
        False,
    )
    assert body["directories"] == [
        {"name": "qc/", "path": "qc/", "count": 3, "bytes": 2000, "humanSize": "2.0 KiB", "deleted": 0}
    ]
    [bam] = body["files"]
    assert bam == {
        "url": "s3://bucket/runs/foo/sample.bam",
        "path": "sample.bam",
        "size": GIB,
        "humanSize": "1.0 GiB",
        "lastModified": "2026-05-13T20:00:00Z",
        "etag": '"e1"',
        "storageClass": "INTELLIGENT_TIERING",
        "deleted": False,
        "deletedAt": None,
    }


@pytest.mark.parametrize("directory", ["qc", "qc/", "s3://bucket/runs/foo/qc/"])
def test_outputs_browse_subdirectory(client: TestClient, directory: str) -> None:
    body = outputs(client, dir=directory)
    assert body["dir"] == "qc/"
    assert [(d["name"], d["path"], d["count"], d["bytes"]) for d in body["directories"]] == [
        ("fastqc/", "qc/fastqc/", 2, 1000)
    ]
    assert [f["path"] for f in body["files"]] == ["qc/report.html"]


def test_outputs_browse_pages_through_files(client: TestClient) -> None:
    first = outputs(client, dir="qc/fastqc", limit=1)
    assert [f["path"] for f in first["files"]] == ["qc/fastqc/a_R1.zip"]
    assert first["more"] is True
    second = outputs(client, dir="qc/fastqc", limit=1, offset=1)
    assert [f["path"] for f in second["files"]] == ["qc/fastqc/a_R2.zip"]
    assert second["more"] is False
    assert outputs(client, dir="nothing-here/") | {"directories": [], "files": []} == outputs(
        client, dir="nothing-here/"
    )


def test_outputs_search_words_and_dir(client: TestClient) -> None:
    body = outputs(client, q="FASTQC zip")
    assert [f["path"] for f in body["files"]] == ["qc/fastqc/a_R1.zip", "qc/fastqc/a_R2.zip"]
    assert (body["total"], body["more"], body["directories"]) == (2, False, [])
    assert outputs(client, q="r1 .ZIP")["total"] == 1
    assert outputs(client, q="zip", dir="qc/fastqc/")["total"] == 2
    assert outputs(client, q="report", dir="qc/fastqc/")["total"] == 0
    paged = outputs(client, q="zip", limit=1)
    assert paged["total"] == 2
    assert len(paged["files"]) == 1
    assert paged["more"] is True
    assert outputs(client, q="   ")["total"] is None  # no words: a plain browse


def test_outputs_of_deleted_run_are_listed_as_deleted(client: TestClient) -> None:
    body = outputs(client, run="old-run")
    assert [(f["path"], f["deleted"], f["deletedAt"]) for f in body["files"]] == [
        ("old.bam", True, "2026-05-13T19:11:00Z")
    ]
    assert body["directories"][0] | {"name": "logs/", "deleted": 1} == body["directories"][0]


def test_outputs_of_run_without_output_dir(client: TestClient) -> None:
    body = outputs(client, run=TWIN_A_ID, q="x")
    assert (body["outputDir"], body["files"], body["total"]) == (None, [], 0)


def test_run_jobs_newest_first(client: TestClient) -> None:
    body = client.get(api_path(RUN_JOBS, run="foo-run-001")).json()
    assert [j["id"] for j in body["items"]] == [JOB_DELETE_FOO, JOB_INDEX_FOO]
    assert body["total"] == 2
    assert (
        client.get(api_path(RUN_JOBS, run="foo-run-001"), params={"limit": 1, "offset": 1}).json()["items"][0]["id"]
        == JOB_INDEX_FOO
    )
    assert client.get(api_path(RUN_JOBS, run="bar-run-002")).json() == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
    }
