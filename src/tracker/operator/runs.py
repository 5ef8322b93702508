"""One WorkflowRun's derived status: state, Disconnected / Stalled, indexing.

`evaluate` computes what the operator owns of a run's status and when that could next
change without a new report (a heartbeat deadline, the end of a stall window);
`patch_status` writes only what differs, guarded by resourceVersion, with an Event on
each Disconnected / Stalled transition. `tracker.operator.tracking` calls them on every
watch event of an active run and again at its next deadline, so a steady heartbeat
costs no API call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from tracker.domain import conditions
from tracker.domain.conditions import rfc3339
from tracker.domain.runhealth import assess, tasks_terminal_since
from tracker.kube import convert, manifests
from tracker.kube.resources import GROUP, JOBS, RUNS, VERSION
from tracker.operator.context import OperatorContext

_EVENT_TYPES = {("Disconnected", "True"): "Warning", ("Stalled", "True"): "Warning"}


def derived_status_patch(body: dict[str, Any], ctx: OperatorContext, now: datetime) -> dict[str, Any]:
    """The status fields the operator owns that differ from what `body` says."""
    return evaluate(body, ctx, now)[0]


def evaluate(body: dict[str, Any], ctx: OperatorContext, now: datetime) -> tuple[dict[str, Any], datetime | None]:
    """`derived_status_patch`, and the next moment the answer could change with no new report."""
    status = body.get("status") or {}
    signals = convert.run_signals(body, ctx.settings.thresholds)
    since = tasks_terminal_since(signals.processes, signals.tasks_terminal_since, now)
    signals = dataclasses.replace(signals, tasks_terminal_since=since)
    health = assess(signals, now)
    current = list(status.get("conditions") or [])
    wanted: dict[str, Any] = {
        "id": status.get("id") or body["metadata"].get("uid") or str(uuid.uuid4()),
        "state": health.state,
        "tasksTerminalSince": rfc3339(since) if since else None,
        "conditions": health.conditions(current, now, signals),
        "observedGeneration": body["metadata"].get("generation"),
    }
    return {k: v for k, v in wanted.items() if status.get(k) != v}, health.next_change_at


def key(body: kopf.Body) -> tuple[str, str]:
    """(namespace, name) of a namespaced tracker resource (it always has both)."""
    namespace = body.metadata.namespace
    if namespace is None:
        raise kopf.PermanentError(f"{body.get('kind', 'object')} {body.metadata.name} has no namespace")
    return namespace, body.metadata.name


def raw_key(body: Mapping[str, Any]) -> tuple[str, str]:
    """(namespace, name) of a raw body of a namespaced tracker resource."""
    return body["metadata"]["namespace"], body["metadata"]["name"]


def is_active(status: Mapping[str, Any]) -> bool:
    """Not terminal: the run is tracked (a terminal run that resumes is again)."""
    phase = convert.phase(status or {})
    return phase is None or not phase.terminal


async def settle_terminal(ctx: OperatorContext, body: dict[str, Any]) -> None:
    """A terminal run: final derived status (no Disconnected or Stalled), then indexing."""
    patch = derived_status_patch(body, ctx, datetime.now(UTC))
    if patch and not await patch_status(ctx, body, patch):
        return  # a newer event follows and settles again
    await asyncio.to_thread(request_indexing, ctx, body)


async def patch_status(ctx: OperatorContext, body: dict[str, Any], patch: dict[str, Any]) -> bool:
    """Merge-patch the status, guarded by resourceVersion; False on a conflict."""
    metadata = body["metadata"]
    try:
        await ctx.async_status.patch(
            group=GROUP,
            version=VERSION,
            namespace=metadata["namespace"],
            plural=RUNS,
            name=metadata["name"],
            body={"metadata": {"resourceVersion": metadata["resourceVersion"]}, "status": patch},
        )
    except ApiException as error:
        if error.status in (404, 409):
            await asyncio.sleep(0)  # let kopf deliver the newer body
            return bool(error.status == 404)
        raise
    before = (body.get("status") or {}).get("conditions") or []
    for condition in conditions.transitions(before, patch.get("conditions", before)):
        event_type = _EVENT_TYPES.get((condition["type"], condition["status"]), "Normal")
        if condition["type"] in ("Disconnected", "Stalled") and (
            condition["status"] == "True" or conditions.is_true(before, condition["type"])
        ):
            reason = condition["type"] if condition["status"] == "True" else f"{condition['type']}Cleared"
            # kopf takes a raw body as well as its Body view (it reads apiVersion, kind and metadata)
            kopf.event(body, type=event_type, reason=reason, message=condition["message"])  # type: ignore[arg-type]
    return True


def request_indexing(ctx: OperatorContext, body: dict[str, Any]) -> None:
    """Create this execution's index_outputs job, once (a second create is a no-op)."""
    metadata, spec, status = body["metadata"], body["spec"], body.get("status") or {}
    outputs = status.get("outputs") or {}
    indexed_at, completed_at = outputs.get("indexedAt"), status.get("completedAt")
    already_indexed = indexed_at is not None and (completed_at is None or indexed_at >= completed_at)
    if not status.get("id") or not spec.get("outputDir") or outputs.get("deletedAt") or already_indexed:
        return  # (no id yet: the patch that assigns it brings another event)
    # The run id too: a run re-created under a deleted run's resource name is another run.
    marker = f"{status.get('id')}/{status.get('startedAt')}/{status.get('completedAt')}/{status.get('phase')}"
    resource = manifests.lifecycle_job_resource(
        namespace=metadata["namespace"],
        run_name=spec["runName"],
        operation="index_outputs",
        requested_by=ctx.identity,
        requested_by_groups=ctx.identity_groups,
        name=manifests.index_job_name(metadata["name"], marker),
    )
    try:
        ctx.custom.create_namespaced_custom_object(GROUP, VERSION, metadata["namespace"], JOBS, resource)
    except ApiException as error:
        if error.status != 409:
            raise
