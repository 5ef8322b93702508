"""The delete journal lives only while its job runs: the operator's mirror drops it
when the job's resource shows it finished (succeeded, or failed for good)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.operator.context import OperatorContext
from tracker.operator.mirror import mirror_job
from tracker.settings import Settings
from tracker.store import journal
from tracker.store.models import DeleteBatch

JOB_ID = "7f3e0000-0000-4000-8000-00000000000a"
OTHER_JOB = "7f3e0000-0000-4000-8000-00000000000b"


def body(job_id: str, phase: str, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "lab", "name": f"olj-{job_id[-1]}", "creationTimestamp": "2026-05-13T19:00:00Z"},
        "spec": {"run": "foo-run-001", "operation": "delete_outputs", "requestedBy": "alice"},
        "status": {"jobId": job_id, "phase": phase, "runId": "run-1", **status},
    }


def batches(factory: sessionmaker[Session], job_id: str) -> int:
    with factory() as session:
        return int(
            session.scalar(select(func.count()).select_from(DeleteBatch).where(DeleteBatch.job_id == job_id)) or 0
        )


@pytest.mark.parametrize(
    "outcome",
    [{"phase": "Succeeded", "reason": "Completed"}, {"phase": "Failed", "reason": "AccessDenied"}],
    ids=["succeeded", "failed"],
)
def test_a_finished_jobs_journal_is_dropped_and_a_running_ones_kept(
    factory: sessionmaker[Session],
    outcome: dict[str, str],
) -> None:
    with factory.begin() as session:
        for job_id in (JOB_ID, OTHER_JOB):
            journal.record_sending(session, job_id=job_id, batch_no=1, bucket="b", targets=[("k1", 5, None, True)])
            journal.settle(session, job_id=job_id, batch_no=1, objects=1, size=5)
            journal.record_sending(session, job_id=job_id, batch_no=2, bucket="b", targets=[("k2", 5, None, True)])
    ctx = OperatorContext(
        settings=Settings(),
        api=None,
        sessions=factory,  # type: ignore[arg-type]
        identity="system:serviceaccount:tracker-system:tracker-operator",
        identity_groups=(),
    )

    mirror_job(ctx, body(JOB_ID, "Running", objectsDeleted=1))
    assert batches(factory, JOB_ID) == 2

    phase = outcome["phase"]
    mirror_job(ctx, body(JOB_ID, phase, reason=outcome["reason"], objectsDeleted=1, bytesDeleted=5))
    assert batches(factory, JOB_ID) == 0
    assert batches(factory, OTHER_JOB) == 2
