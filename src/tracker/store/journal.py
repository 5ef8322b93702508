"""The delete journal: a job's DeleteObjects batches, before and after S3 answered.

It matters only while the job runs; once the job has finished, `forget` drops it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from tracker.store.models import DeleteBatch

Target = tuple[str, int, str | None, bool]  # key, size, version id, counts as an object


def next_batch_no(session: Session, *, job_id: str) -> int:
    last = session.scalar(select(func.max(DeleteBatch.batch_no)).where(DeleteBatch.job_id == job_id))
    return (last or 0) + 1


def record_sending(session: Session, *, job_id: str, batch_no: int, bucket: str, targets: list[Target]) -> None:
    session.add(
        DeleteBatch(
            job_id=job_id,
            batch_no=batch_no,
            bucket=bucket,
            targets=[list(t) for t in targets],
            settled=False,
            objects=0,
            bytes=0,
        )
    )


def settle(session: Session, *, job_id: str, batch_no: int, objects: int, size: int) -> None:
    session.execute(
        update(DeleteBatch)
        .where(DeleteBatch.job_id == job_id, DeleteBatch.batch_no == batch_no)
        .values(settled=True, objects=objects, bytes=size)
    )


def unsettled(session: Session, *, job_id: str) -> list[tuple[int, str, list[Target]]]:
    rows = session.execute(
        select(DeleteBatch.batch_no, DeleteBatch.bucket, DeleteBatch.targets)
        .where(DeleteBatch.job_id == job_id, DeleteBatch.settled.is_(False))
        .order_by(DeleteBatch.batch_no)
    )
    return [(no, bucket, [tuple(t) for t in targets]) for no, bucket, targets in rows]


def totals(session: Session, *, job_id: str) -> tuple[int, int]:
    """Objects and bytes deleted by every settled batch of the job."""
    row: Any = session.execute(
        select(func.coalesce(func.sum(DeleteBatch.objects), 0), func.coalesce(func.sum(DeleteBatch.bytes), 0)).where(
            DeleteBatch.job_id == job_id, DeleteBatch.settled.is_(True)
        )
    ).one()
    return int(row[0]), int(row[1])


def forget(session: Session, *, job_id: str) -> None:
    """Drop the journal of a finished job (its counters live on in the job's row)."""
    session.execute(delete(DeleteBatch).where(DeleteBatch.job_id == job_id))
