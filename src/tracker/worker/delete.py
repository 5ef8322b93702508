"""delete_outputs: delete every object under the run's outputDir, then mark the run's
outputs deleted (the index keeps the rows, marked deleted). Counters stay exact across
attempts through the delete journal. Before anything is listed, the shared-prefix rule
is checked again (another run may have been indexed under the prefix since admission).
A pod of a sharded job deletes only its shard's key range, with a journal of its own;
marking the outputs deleted waits for every shard (the operator does it)."""

from __future__ import annotations

from typing import Any

from tracker.domain.cost import human_size
from tracker.domain.s3url import parse_prefix
from tracker.s3.delete import delete_prefix
from tracker.worker.context import WorkerContext
from tracker.worker.indexops import record_outputs_deleted
from tracker.worker.journal import resume
from tracker.worker.shardwork import journal_of, shard_of
from tracker.worker.sharing import refuse_shared


def delete_outputs(ctx: WorkerContext, run: dict[str, Any], job: dict[str, Any]) -> str:
    prefix = parse_prefix(run["spec"]["outputDir"], field="outputDir")
    refuse_shared(ctx.sessions, run, prefix, "delete")
    shard, key_range, where = shard_of(ctx, prefix)
    if job["spec"].get("dryRun"):
        result = delete_prefix(ctx.s3, prefix, dry_run=True, key_range=key_range)
        ctx.reporter.set(objects_to_delete=result.objects_found, bytes_to_delete=result.bytes_found)
        return (
            f"dry run: would delete {result.objects_found} objects "
            f"({human_size(result.bytes_found)}) {where}; nothing was changed"
        )
    journal = resume(ctx.sessions, ctx.s3, journal_of(job, shard), prefix.bucket)
    before_objects, before_bytes = journal.totals()

    def progress(objects: int, size: int) -> None:
        ctx.reporter.set(objects_deleted=before_objects + objects, bytes_deleted=before_bytes + size)

    progress(0, 0)
    delete_prefix(
        ctx.s3,
        prefix,
        batches_in_flight=ctx.settings.s3.delete_batches_in_flight,
        on_progress=progress,
        journal=journal,
        key_range=key_range,
    )
    objects, size = journal.totals()
    ctx.reporter.set(objects_deleted=objects, bytes_deleted=size)
    if shard is None:
        record_outputs_deleted(
            api=ctx.api, sessions=ctx.sessions, run=run, by=job["spec"]["requestedBy"], prices=ctx.settings.prices
        )
    return f"deleted {objects} objects ({human_size(size)}) {where}"
