"""What a delete or move works on in one worker pod: the whole prefix, or one shard's
key range of it, and the delete journal that pod resumes (the job's, or its shard's)."""

from __future__ import annotations

from typing import Any

from tracker.domain import shards
from tracker.domain.s3url import S3Url
from tracker.domain.shards import EVERYTHING, KeyRange, Shard
from tracker.worker.context import WorkerContext


def shard_of(ctx: WorkerContext, prefix: S3Url) -> tuple[Shard | None, KeyRange, str]:
    """The pod's shard (None: unsharded), its key range, and where it works, in words."""
    shard = ctx.shard
    if shard is None:
        return None, EVERYTHING, f"under {prefix}"
    return shard, shard.key_range, f"under {prefix} (shard {shard.index} of {shard.count})"


def journal_of(job: dict[str, Any], shard: Shard | None) -> str:
    job_id = str(job["status"]["jobId"])
    return job_id if shard is None else shards.journal_id(job_id, shard.index)
