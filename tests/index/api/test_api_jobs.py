"""`/api/v1/jobs`: lifecycle job history with filters, and one job by id."""

from __future__ import annotations

from typing import Any

import pytest
from api_seed import FOO_ID, JOB_DELETE_FOO, JOB_DELETE_OLD, JOB_GHOST, JOB_INDEX_FOO
from fastapi.testclient import TestClient

from tracker.api.paths import JOB, JOBS, api_path

NEWEST_FIRST = [JOB_DELETE_FOO, JOB_INDEX_FOO, JOB_DELETE_OLD, JOB_GHOST]


def ids(client: TestClient, **params: Any) -> list[str]:
    response = client.get(api_path(JOBS), params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, NEWEST_FIRST),
        ({"run": "foo-run-001"}, [JOB_DELETE_FOO, JOB_INDEX_FOO]),
        ({"run": FOO_ID}, [JOB_DELETE_FOO, JOB_INDEX_FOO]),
        ({"run": "foo-run-001", "namespace": "genomics"}, [JOB_DELETE_FOO, JOB_INDEX_FOO]),
        ({"run": "foo-run-001", "namespace": "lab-a"}, []),
        ({"run": "twin", "namespace": "lab-a"}, []),
        ({"run": "no-such-run"}, []),
        ({"phase": "Running"}, [JOB_DELETE_FOO]),
        ({"phase": "Succeeded"}, [JOB_INDEX_FOO, JOB_DELETE_OLD]),
        ({"operation": "delete_outputs"}, [JOB_DELETE_FOO, JOB_DELETE_OLD]),
        ({"operation": "delete_outputs", "phase": "Succeeded"}, [JOB_DELETE_OLD]),
        ({"namespace": "genomics"}, NEWEST_FIRST),
        ({"run": "x\x00"}, []),
        ({"limit": 2, "offset": 1}, [JOB_INDEX_FOO, JOB_DELETE_OLD]),
    ],
)
def test_list_filters(client: TestClient, params: dict[str, Any], expected: list[str]) -> None:
    assert ids(client, **params) == expected


def test_list_counts_every_match(client: TestClient) -> None:
    body = client.get(api_path(JOBS), params={"limit": 1}).json()
    assert (len(body["items"]), body["total"], body["limit"], body["offset"]) == (1, 4, 1, 0)


def test_list_by_ambiguous_run_name_is_409(client: TestClient) -> None:
    response = client.get(api_path(JOBS), params={"run": "twin"})
    assert response.status_code == 409
    assert "lab-a, lab-b" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"phase": "Done"}, "query parameter 'phase'"),
        ({"operation": "delete"}, "query parameter 'operation'"),
        ({"limit": -1}, "query parameter 'limit'"),
    ],
)
def test_list_bad_parameters(client: TestClient, params: dict[str, Any], where: str) -> None:
    response = client.get(api_path(JOBS), params=params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(where)


def test_get_job(client: TestClient) -> None:
    job = client.get(api_path(JOB, job_id=JOB_DELETE_FOO)).json()
    assert {
        k: job[k]
        for k in (
            "id",
            "namespace",
            "run",
            "runId",
            "operation",
            "phase",
            "requestedBy",
            "requestedByGroups",
            "dryRun",
            "startedAt",
            "completedAt",
        )
    } == {
        "id": JOB_DELETE_FOO,
        "namespace": "genomics",
        "run": "foo-run-001",
        "runId": FOO_ID,
        "operation": "delete_outputs",
        "phase": "Running",
        "requestedBy": "alice",
        "requestedByGroups": ["rna"],
        "dryRun": False,
        "startedAt": "2026-05-13T20:10:00Z",
        "completedAt": None,
    }
    assert job["counters"] == {
        "objectsDeleted": 1,
        "bytesDeleted": 500,
        "objectsCopied": 0,
        "bytesCopied": 0,
        "rowsRewritten": 0,
        "rowsMarkedDeleted": 0,
        "objectsIndexed": 0,
        "objectsToDelete": 0,
        "bytesToDelete": 0,
        "objectsToMove": 0,
        "bytesToMove": 0,
    }
    ghost = client.get(api_path(JOB, job_id=JOB_GHOST)).json()
    assert (ghost["runId"], ghost["reason"], ghost["destination"]) == (None, "RunNotFound", "s3://archive/ghost/")


@pytest.mark.parametrize("job_id", ["7f3e0000-0000-4000-8000-00000000ffff", "not-a-uuid", "a\x00"])
def test_unknown_job_is_404(client: TestClient, job_id: str) -> None:
    response = client.get(api_path(JOB, job_id=job_id))
    assert response.status_code == 404
    assert response.json() == {"detail": f"no lifecycle job {job_id!r}"}
