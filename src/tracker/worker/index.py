"""index_outputs: list the run's outputDir and upsert one index row per object, mark
deleted the rows whose objects this listing no longer found (rows kept; an object that
reappears is un-deleted by its upsert), then write the outputs summary of the rows not
deleted to the run (status and index) and set OutputsIndexed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tracker.domain.conditions import Desired, apply
from tracker.domain.cost import annual_storage_cost
from tracker.domain.s3url import parse_prefix
from tracker.kube import convert
from tracker.kube.resources import RUNS
from tracker.kube.status import patch_status
from tracker.s3.errors import denied_as_error
from tracker.s3.listing import iter_pages
from tracker.store import outputs as output_rows
from tracker.worker.context import WorkerContext


def index_outputs(ctx: WorkerContext, run: dict[str, Any], job: dict[str, Any]) -> str:
    """Returns the success message."""
    prefix = parse_prefix(run["spec"]["outputDir"], field="outputDir")
    run_id = run["status"]["id"]
    listed_at = datetime.now(UTC)  # every row this listing sees is stamped with it
    pages = iter_pages(ctx.s3, prefix, page_size=ctx.settings.s3.list_page_size)
    for page in denied_as_error(pages, f"listing {prefix} (s3:ListBucket)"):
        with ctx.sessions.begin() as session:
            output_rows.upsert_outputs(session, run_id=run_id, objects=page, seen_at=listed_at)
        ctx.reporter.count(objects_indexed=len(page))
    now = datetime.now(UTC)
    with ctx.sessions.begin() as session:
        gone = output_rows.mark_missing_outputs_deleted(session, run_id=run_id, seen_before=listed_at, at=now)
        summary = output_rows.refresh_outputs_summary(session, run_id=run_id, indexed_at=now)
    cost = annual_storage_cost(summary.bytes, ctx.settings.prices)
    indexed = Desired(
        "OutputsIndexed",
        True,
        "Indexed",
        f"{summary.count} objects ({convert.outputs_status(summary, cost)['size']}) under {prefix}",
    )

    def compute(current: dict[str, Any]) -> dict[str, Any]:
        status = current.get("status") or {}
        return {
            "outputs": convert.outputs_status(summary, cost),
            "conditions": apply(status.get("conditions") or [], indexed, now),
        }

    if not convert.is_archived(run):
        patch_status(
            ctx.api, plural=RUNS, namespace=run["metadata"]["namespace"], name=run["metadata"]["name"], compute=compute
        )
    missing = f"; {gone} objects no longer in S3 marked deleted" if gone else ""
    return f"indexed {ctx.reporter.counters.objects_indexed} objects under {prefix}{missing}"
