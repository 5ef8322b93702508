"""What a lifecycle job changes besides S3: the index rows and the run resource.

Shared by the worker (after deleting or moving objects) and the operator (which runs
the index-only operations, mark_outputs_deleted and rewrite_output_paths, itself). An
archived run has no resource left to update: its index rows are all there is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.conditions import Desired, apply
from tracker.domain.cost import TierPrices, annual_storage_cost
from tracker.kube import convert
from tracker.kube.resources import GROUP, RUNS, VERSION
from tracker.kube.status import patch_status
from tracker.store import outputs as output_rows
from tracker.store import runs as run_rows


def ensure_indexed_run(session: Session, run: dict[str, Any]) -> str:
    """The run's id, with its row in the index (the mirror may not have written it yet)."""
    run_id = run["status"]["id"]
    if run_rows.get_run(session, ref=run_id) is None:
        run_rows.upsert_run(session, record=convert.run_record(run))
    return str(run_id)


def record_outputs_deleted(
    *, api: client.ApiClient, sessions: sessionmaker[Session], run: dict[str, Any], by: str, prices: TierPrices
) -> int:
    """Mark the run's outputs deleted (rows kept) and say so on the run. Returns rows marked."""
    now = datetime.now(UTC)
    with sessions.begin() as session:
        run_id = ensure_indexed_run(session, run)
        marked = output_rows.mark_outputs_deleted(session, run_id=run_id, at=now, by=by)
        summary = run_rows.outputs_summary(session, run_id=run_id)
    stanza = convert.outputs_status(summary, annual_storage_cost(0, prices))
    deleted = Desired("OutputsDeleted", True, "Deleted", f"outputs deleted by {summary.deleted_by}")

    def compute(current: dict[str, Any]) -> dict[str, Any]:
        status = current.get("status") or {}
        return {
            "outputs": {**(status.get("outputs") or {}), **stanza},
            "conditions": apply(status.get("conditions") or [], deleted, now),
        }

    _patch_run(api, run, compute)
    return marked


def record_outputs_moved(
    *, api: client.ApiClient, sessions: sessionmaker[Session], run: dict[str, Any], new_prefix: str
) -> int:
    """Rewrite the run's index rows and spec.outputDir to `new_prefix`. Returns rows rewritten."""
    old_prefix = run["spec"]["outputDir"]
    with sessions.begin() as session:  # one transaction: every row or none
        run_id = ensure_indexed_run(session, run)
        rewritten = output_rows.rewrite_output_paths(
            session, run_id=run_id, old_prefix=old_prefix, new_prefix=new_prefix
        )
    metadata = run["metadata"]
    if not convert.is_archived(run):  # an archived run's outputDir is the index's, rewritten above
        client.CustomObjectsApi(api).patch_namespaced_custom_object(
            GROUP, VERSION, metadata["namespace"], RUNS, metadata["name"], {"spec": {"outputDir": new_prefix}}
        )
    return int(rewritten)


def _patch_run(api: client.ApiClient, run: dict[str, Any], compute: Any) -> None:
    """Patch the run resource's status (an archived run has none: the index is its record)."""
    if convert.is_archived(run):
        return
    metadata = run["metadata"]
    patch_status(api, plural=RUNS, namespace=metadata["namespace"], name=metadata["name"], compute=compute)
