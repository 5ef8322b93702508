"""The worker's side of the delete journal (tracker.store.journal): exact counters
even when a worker is killed between S3 deleting a batch and the worker counting it.

Before a batch goes out it is written down; when S3 answers, the batch is settled with
what S3 reported deleted. The next attempt settles whatever an earlier one left
unsettled by asking S3 which of those keys are gone, then carries on from the sums.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

from botocore.exceptions import ClientError
from sqlalchemy.orm import Session, sessionmaker

from tracker.s3.batches import BatchOutcome, Target
from tracker.s3.client import S3Client
from tracker.s3.errors import error_code
from tracker.s3.retry import call_s3
from tracker.store import journal as rows


class DeleteJournal:
    """`tracker.s3.batches.Journal` backed by the index database."""

    def __init__(self, sessions: sessionmaker[Session], job_id: str, bucket: str) -> None:
        self._sessions, self._job_id, self._bucket = sessions, job_id, bucket
        self._numbers: dict[int, int] = {}
        with sessions() as session:
            self._next = rows.next_batch_no(session, job_id=job_id)

    def sending(self, batch: list[Target]) -> None:
        number, self._next = self._next, self._next + 1
        self._numbers[id(batch)] = number
        with self._sessions.begin() as session:
            rows.record_sending(
                session,
                job_id=self._job_id,
                batch_no=number,
                bucket=self._bucket,
                targets=[(t.key, t.size, t.version_id, t.is_object) for t in batch],
            )

    def settled(self, batch: list[Target], outcome: BatchOutcome) -> None:
        deleted = [t for t in outcome.deleted if t.is_object]
        with self._sessions.begin() as session:
            rows.settle(
                session,
                job_id=self._job_id,
                batch_no=self._numbers.pop(id(batch)),
                objects=len(deleted),
                size=sum(t.size for t in deleted),
            )

    def totals(self) -> tuple[int, int]:
        with self._sessions() as session:
            return rows.totals(session, job_id=self._job_id)


def resume(sessions: sessionmaker[Session], client: S3Client, job_id: str, bucket: str) -> DeleteJournal:
    """This attempt's journal, after settling whatever earlier attempts left unsettled."""
    reconcile(sessions, client, job_id)
    return DeleteJournal(sessions, job_id, bucket)


def reconcile(sessions: sessionmaker[Session], client: S3Client, job_id: str) -> None:
    """Settle the batches an earlier attempt sent but never settled: a key that is gone
    was deleted by that batch."""
    with sessions() as session:
        pending = rows.unsettled(session, job_id=job_id)
    for batch_no, bucket, targets in pending:
        objects = [(key, size) for key, size, _version, is_object in targets if is_object]
        with ThreadPoolExecutor(max_workers=16) as pool:
            present = list(pool.map(partial(_exists, client, bucket), [key for key, _ in objects]))
        deleted = [size for (_, size), exists in zip(objects, present, strict=True) if not exists]
        with sessions.begin() as session:
            rows.settle(session, job_id=job_id, batch_no=batch_no, objects=len(deleted), size=sum(deleted))


def _exists(client: S3Client, bucket: str, key: str) -> bool:
    try:
        call_s3(client.head_object, Bucket=bucket, Key=key, what=f"checking s3://{bucket}/{key} (HeadObject)")
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True
