"""The same run tracking with the index on PostgreSQL: the operator and its workers
mirror runs and index outputs into a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.workflowruns import create_run, now, report, status_of

from localcluster.postgres import PostgresServer
from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import Operator
from tracker.store import lookup, runs
from tracker.store.engine import make_engine, session_factory

pytestmark = [pytest.mark.cluster, pytest.mark.postgres]


@pytest.fixture(scope="module")
def postgres_operator(
    tracker_operator: Operator, postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Operator]:
    """The session's SQLite operator steps aside while one on PostgreSQL runs."""
    url = postgres_server.create_database("tracker_operator")
    tracker_operator.stop()
    operator = Operator(
        plane=tracker_operator.plane,
        s3=tracker_operator.s3,
        database_url=url,
        state_dir=Path(tmp_path_factory.mktemp("pg-operator")),
    ).start()
    yield operator
    operator.stop()
    tracker_operator.start()


def test_runs_and_outputs_land_in_postgresql(
    postgres_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str
) -> None:
    plane, ns = postgres_operator.plane, tracked_namespace
    put_objects(s3_server.client(), s3_bucket, [(f"pg/run-7/Sample_{i}.vcf", 50 + i) for i in range(40)])
    put_objects(s3_server.client(), s3_bucket, [("pg/run-70/Sample_1.vcf", 1)])
    create_run(plane, ns, "pg-run-7", outputDir=f"s3://{s3_bucket}/pg/run-7/")
    report(
        plane,
        ns,
        "pg-run-7",
        {"phase": "Running", "lastHeartbeatTime": now(), "processes": [{"name": "CALL", "succeeded": 40}]},
    )
    report(plane, ns, "pg-run-7", {"phase": "Succeeded", "completedAt": now()})
    status = wait_until(
        lambda: (s := status_of(plane, ns, "pg-run-7")).get("outputs", {}).get("indexedAt") and s,
        timeout=120,
        what="pg-run-7 indexed",
    )
    assert status["outputs"]["count"] == 40
    assert status["outputs"]["bytes"] == sum(50 + i for i in range(40))

    sessions = session_factory(make_engine(postgres_operator.database_url))
    with sessions() as session:
        record = runs.get_run(session, ref="pg-run-7", namespace=ns)
        assert record is not None
        assert record.phase == "Succeeded"
        assert record.state == "Succeeded"
        assert [(p.name, p.succeeded) for p in record.processes] == [("CALL", 40)]
        summary = runs.outputs_summary(session, run_id=record.id)
        assert (summary.count, summary.bytes) == (40, status["outputs"]["bytes"])
        assert [r.run_name for r in lookup.lookup_runs_by_url(session, text="RUN-7/sample_3")] == ["pg-run-7"]
