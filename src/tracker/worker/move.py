"""move_outputs: copy every object to the destination server-side, verify, delete the
sources, then rewrite the index rows and the run's outputDir in one transaction. Before
anything is listed, the shared-prefix rule is checked again (another run may have been
indexed under the prefix since admission). A pod of a sharded job copies, verifies and
deletes only its shard's key range, with a journal of its own; rewriting the index waits
for every shard (the operator does it)."""

from __future__ import annotations

from typing import Any

from tracker.domain.cost import human_size
from tracker.domain.s3url import parse_prefix
from tracker.s3.copy import CopyResult, move_prefix
from tracker.worker.context import WorkerContext
from tracker.worker.indexops import record_outputs_moved
from tracker.worker.journal import resume
from tracker.worker.shardwork import journal_of, shard_of
from tracker.worker.sharing import refuse_shared


def move_outputs(ctx: WorkerContext, run: dict[str, Any], job: dict[str, Any]) -> str:
    source = parse_prefix(run["spec"]["outputDir"], field="outputDir")
    destination = parse_prefix(job["spec"]["destination"], field="destination")
    refuse_shared(ctx.sessions, run, source, "move")
    shard, key_range, _ = shard_of(ctx, source)
    of_shard = "" if shard is None else f" (shard {shard.index})"
    if job["spec"].get("dryRun"):
        result = move_prefix(ctx.s3, source, destination, dry_run=True, key_range=key_range)
        ctx.reporter.set(objects_to_move=result.objects_found, bytes_to_move=result.bytes_found)
        return (
            f"dry run: would move {result.objects_found} objects ({human_size(result.bytes_found)}) "
            f"from {source} to {destination}{of_shard} ({result.objects_skipped} already there); nothing was changed"
        )
    journal = resume(ctx.sessions, ctx.s3, journal_of(job, shard), source.bucket)
    # Sources an earlier attempt deleted are no longer listed; each had a verified copy.
    moved_objects, moved_bytes = journal.totals()

    def progress(result: CopyResult) -> None:
        ctx.reporter.set(
            objects_copied=moved_objects + result.objects_copied,
            bytes_copied=moved_bytes + result.bytes_copied,
            objects_deleted=moved_objects + result.objects_deleted,
            bytes_deleted=moved_bytes + result.bytes_deleted,
        )

    result = move_prefix(
        ctx.s3,
        source,
        destination,
        batches_in_flight=ctx.settings.s3.delete_batches_in_flight,
        on_progress=progress,
        journal=journal,
        key_range=key_range,
    )
    progress(result)
    deleted_objects, deleted_bytes = journal.totals()
    copied = ctx.reporter.counters
    moved = f"moved {copied.objects_copied} objects ({human_size(copied.bytes_copied)}) from {source} to {destination}"
    if shard is not None:
        ctx.reporter.set(objects_deleted=deleted_objects, bytes_deleted=deleted_bytes)
        return moved + of_shard
    rows = record_outputs_moved(api=ctx.api, sessions=ctx.sessions, run=run, new_prefix=str(destination))
    ctx.reporter.set(objects_deleted=deleted_objects, bytes_deleted=deleted_bytes, rows_rewritten=rows)
    return f"{moved}; {rows} index rows rewritten"
