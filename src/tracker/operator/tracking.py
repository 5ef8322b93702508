"""Tracking every active WorkflowRun with one scheduler, not a task per run.

Each watch event of a run hands its body to `RunTracker.changed`. The tracker keeps
what evaluating the run reads (`essentials`: a few hundred bytes, so 10,000 live runs
stay small), evaluates it (`runs.evaluate`; `runs.patch_status` writes only what
differs, guarded by resourceVersion) and schedules the next moment the run's health
could change (its heartbeat deadline, the end of its stall window) in one `Deadlines`.
At that moment it evaluates the body it holds again: nothing new arrived meanwhile, or
a newer event would have rescheduled it. Terminal and deleted runs leave the tracker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tracker.kube import convert
from tracker.operator import runs
from tracker.operator.context import OperatorContext
from tracker.operator.deadlines import RETRY_SECONDS, Deadlines

Key = tuple[str, str]
_METADATA = ("namespace", "name", "uid", "generation", "resourceVersion", "creationTimestamp")
_SPEC = ("heartbeatTimeoutSeconds", "stalledAfterSeconds")
_STATUS = ("id", "phase", "state", "lastHeartbeatTime", "tasksTerminalSince", "conditions", "observedGeneration")


def essentials(body: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a run's body that evaluating it and writing its status and Events
    read. Its processes only tell whether every task is terminal, which no deadline
    changes: they are kept as one entry that is terminal exactly when all of them are."""
    metadata, spec, status = body["metadata"], body.get("spec") or {}, body.get("status") or {}
    kept: dict[str, Any] = {k: status[k] for k in _STATUS if k in status}
    counts = convert.processes(status)
    if counts:
        active = sum(p.active for p in counts)
        kept["processes"] = [{"name": "", "running": active, "succeeded": sum(p.seen for p in counts) - active}]
    return {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": {k: metadata[k] for k in _METADATA if k in metadata},
        "spec": {k: spec[k] for k in _SPEC if k in spec},
        "status": kept,
    }


@dataclass
class RunTracker:
    """The active runs' essentials by (namespace, name), and their next deadlines."""

    deadlines: Deadlines[Key] = field(default_factory=lambda: Deadlines(name="run deadline"))
    held: dict[Key, dict[str, Any]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def changed(self, ctx: OperatorContext, body: Mapping[str, Any]) -> bool:
        """A watch event (not a deletion) of the run. False when it patched the run's
        status (or lost to a newer write): a newer event of the run follows."""
        if self._task is None:
            # Started from a handler: its context holds kopf's Event queue, which the
            # Events of the deadlines' status patches go through (kopf.event).
            self._task = asyncio.create_task(self.deadlines.run(lambda key: self.due(ctx, key)))
        metadata = body["metadata"]
        key = (metadata["namespace"], metadata["name"])
        if not runs.is_active(body.get("status") or {}):
            self.leave(key)  # runs.settle_terminal's job
            return True
        held = self.held[key] = essentials(body)
        try:
            return await self._evaluate(ctx, key, held)
        except Exception:
            self.deadlines.schedule(key, time.time() + RETRY_SECONDS)  # no other event may follow
            raise

    def leave(self, key: Key) -> None:
        self.held.pop(key, None)
        self.deadlines.forget(key)

    async def due(self, ctx: OperatorContext, key: Key) -> None:
        """The run's deadline: evaluate the latest body held for it."""
        held = self.held.get(key)
        if held is not None:
            await self._evaluate(ctx, key, held)

    async def _evaluate(self, ctx: OperatorContext, key: Key, body: dict[str, Any]) -> bool:
        """True when the run's status was already right (nothing patched)."""
        now = datetime.now(UTC)
        patch, next_change = runs.evaluate(body, ctx, now)
        if patch and not await runs.patch_status(ctx, body, patch):
            return False  # the run changed meanwhile: its newer event evaluates it again
        if next_change is None:
            self.deadlines.forget(key)
        else:
            self.deadlines.schedule(key, next_change.timestamp())
        return not patch
