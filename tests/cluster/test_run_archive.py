"""The run archive end to end: an operator archiving runs a few seconds after they
finish removes their WorkflowRuns and finished lifecycle jobs, the index keeps them,
`tracker get runs` / `describe run`, the read API and the pages still find them by run
name and id, and a delete lifecycle job on an archived run still deletes its outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fixtures.cli import Cli
from fixtures.lifecyclejobs import apply_job, wait_finished
from fixtures.trackerapi import serve
from fixtures.workflowruns import create_run, now, report, status_of

from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import Operator
from tracker.store import runs as run_rows
from tracker.store.engine import make_engine, session_factory

pytestmark = pytest.mark.cluster
ARCHIVE_AFTER_SECONDS = 8


@pytest.fixture(scope="module")
def archiving_operator(tracker_operator: Operator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    """The session's operator steps aside while one archiving runs 8 s after they finish
    (a pass every second) runs on an index of its own."""
    state = Path(tmp_path_factory.mktemp("archiving-operator"))
    tracker_operator.stop()
    operator = Operator(
        plane=tracker_operator.plane,
        s3=tracker_operator.s3,
        database_url=f"sqlite:///{state / 'tracker.db'}",
        state_dir=state,
        extra_env={
            "TRACKER_ARCHIVE__AFTER_SECONDS": str(ARCHIVE_AFTER_SECONDS),
            "TRACKER_ARCHIVE__INTERVAL_SECONDS": "1",
            "TRACKER_ARCHIVE__BATCH": "2",
        },
    ).start()
    yield operator
    operator.stop()
    tracker_operator.start()


@pytest.fixture(scope="module")
def archive_api(archiving_operator: Operator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    api = serve(archiving_operator.database_url, tmp_path_factory.mktemp("archive-api"), TRACKER_API__AUTH_MODE="none")
    yield api.url
    api.process.stop()


def _gone(operator: Operator, namespace: str, kind: str, name: str) -> bool:
    found = operator.plane.kubectl("get", kind, name, "-n", namespace, "-o", "name", check=False)
    return found.returncode != 0 and "NotFound" in found.stderr


def _jobs_of(operator: Operator, namespace: str, run_id: str) -> list[str]:
    items = json.loads(operator.plane.kubectl("get", "olj", "-n", namespace, "-o", "json").stdout)["items"]
    return [j["metadata"]["name"] for j in items if (j.get("status") or {}).get("runId") == run_id]


def test_archived_runs_leave_the_cluster_and_stay_findable(
    archiving_operator: Operator, archive_api: str, tracked_namespace: str, s3_server: S3Server, s3_bucket: str
) -> None:
    operator, ns = archiving_operator, tracked_namespace
    plane = operator.plane
    keys = [(f"archive/old-run/{name}", size) for name, size in (("a.bam", 300), ("b/c.vcf", 40), ("d.txt", 2))]
    put_objects(s3_server.client(), s3_bucket, keys)
    put_objects(s3_server.client(), s3_bucket, [("archive/old-run-2/keep.txt", 7)])
    names = ["old-run", "old-run-2", "old-run-3"]  # three runs: batches of two
    for name in names:
        create_run(plane, ns, name, owner="admin", outputDir=f"s3://{s3_bucket}/archive/{name}/")
    create_run(plane, ns, "still-running", owner="admin", outputDir=f"s3://{s3_bucket}/archive/still-running/")
    report(plane, ns, "still-running", {"phase": "Running", "lastHeartbeatTime": now()})
    ids = {
        name: wait_until(lambda n=name: status_of(plane, ns, n).get("id"), timeout=60, what=f"{name} to have an id")
        for name in names
    }
    for name in names:
        report(plane, ns, name, {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})

    try:
        wait_until(
            lambda: all(_gone(operator, ns, "wfr", n) for n in names), timeout=120, what="the finished runs archived"
        )
    except TimeoutError:
        print(operator.log_tail())
        raise
    assert not _gone(operator, ns, "wfr", "still-running")
    for name in names:  # their finished index jobs went with them
        wait_until(lambda n=name: not _jobs_of(operator, ns, ids[n]), timeout=30, what=f"{name}'s jobs removed")

    with session_factory(make_engine(operator.database_url))() as session:
        record = run_rows.get_run(session, ref="old-run", namespace=ns)
        assert record is not None
        assert record.id == ids["old-run"]
        assert record.archived_at is not None
        assert record.phase == "Succeeded"
        summary = run_rows.outputs_summary(session, run_id=record.id)
        assert (summary.count, summary.bytes) == (3, 342)  # indexed before it was archived
        running = run_rows.get_run(session, ref="still-running", namespace=ns)
        assert running is not None
        assert running.archived_at is None

    # the read API and the pages, by run name and by id
    by_name = httpx.get(f"{archive_api}/api/v1/runs/old-run", params={"namespace": ns}).json()
    by_id = httpx.get(f"{archive_api}/api/v1/runs/{ids['old-run']}").json()
    assert by_name["id"] == by_id["id"] == ids["old-run"]
    assert by_name["archived"] is True
    assert by_name["archivedAt"]
    assert by_name["outputs"]["count"] == 3
    listed = httpx.get(f"{archive_api}/api/v1/runs", params={"namespace": ns, "archived": "true"}).json()
    assert sorted(r["runName"] for r in listed["items"]) == names
    live = httpx.get(f"{archive_api}/api/v1/runs", params={"namespace": ns, "archived": "false"}).json()
    assert [r["runName"] for r in live["items"]] == ["still-running"]
    page = httpx.get(f"{archive_api}/runs/old-run", params={"namespace": ns})
    assert page.status_code == 200
    assert 'id="run-archived"' in page.text

    # the CLI, by run name and by id, as for a live run
    cli = Cli(plane.kubeconfig, ns, api_url=archive_api)
    for ref in ("old-run", ids["old-run"]):
        got = cli("get", "runs", ref)
        assert got.returncode == 0, got.stderr
        header, row = got.stdout.splitlines()
        assert header.split()[:3] == ["NAME", "RUN", "STATE"]
        assert row.split()[:4] == ["old-run", "old-run", "Succeeded", "admin"]
    as_json = json.loads(cli("get", "runs", "old-run", "-o", "json").stdout)
    assert as_json["status"]["id"] == ids["old-run"]
    assert as_json["metadata"]["annotations"]["tracker.dev/archived-at"]
    archived = cli("get", "runs", "--archived")
    assert archived.returncode == 0, archived.stderr
    assert sorted(line.split()[0] for line in archived.stdout.splitlines()[1:]) == names
    described = cli("describe", "run", ids["old-run"])
    assert described.returncode == 0, described.stderr
    assert "Id:" in described.stdout
    assert ids["old-run"] in described.stdout
    assert "Archived:" in described.stdout
    assert "index_outputs" in described.stdout  # its lifecycle jobs, from their history
    assert "Events:  <none: the run is archived>" in described.stdout
    without_api = Cli(plane.kubeconfig, ns)("get", "runs", "old-run")
    assert without_api.returncode == 1
    assert "not found" in without_api.stderr

    # a lifecycle job on an archived run: admitted from the index, run by the worker
    apply_job(operator, ns, "delete-archived", run="old-run", operation="delete_outputs")
    status = wait_finished(operator, ns, "delete-archived")
    assert (status["phase"], status["reason"]) == ("Succeeded", "Completed"), status
    assert status["runId"] == ids["old-run"]
    assert (status["objectsDeleted"], status["bytesDeleted"]) == (3, 342)
    paginator = s3_server.client().get_paginator("list_objects_v2")
    left = [o["Key"] for p in paginator.paginate(Bucket=s3_bucket, Prefix="archive/") for o in p.get("Contents", ())]
    assert left == ["archive/old-run-2/keep.txt"]
    after = httpx.get(f"{archive_api}/api/v1/runs/{ids['old-run']}").json()
    assert after["outputs"]["deleted"] is True
    assert after["outputs"]["deletedBy"] == "admin"

    # by run id, through the CLI (which finds the archived run through the read API)
    again = cli("outputs", "delete", ids["old-run"], "--wait", "--timeout", "2m")
    assert again.returncode == 0, again.stderr
    assert "already deleted" in (again.stdout + again.stderr).lower()
