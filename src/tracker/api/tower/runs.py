"""Where the receiver writes runs: the small interface between the trace protocol
and the system of record, its index implementation, and the errors writers raise.

`IndexRuns` writes the run straight into the SQL index, in the receiver's own
transaction (so the API and the Run Detail page show it at once, with its tasks).
`tracker.api.tower.kube.KubernetesRuns` creates and patches WorkflowRuns instead
(the operator then indexes them); task rows go to the index either way.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tracker.api.errors import ApiProblem
from tracker.domain.conditions import parse_time
from tracker.domain.records import ProcessCounts, RunRecord
from tracker.store import runs
from tracker.store.traces import TraceBinding

_SPEC = {
    "engine": "engine",
    "sessionId": "session_id",
    "workDir": "work_dir",
    "outputDir": "output_dir",
    "commandLine": "command_line",
    "configText": "config_text",
    "params": "params",
}
_WORKFLOW = {"repository": "repository", "revision": "revision", "commit": "commit"}
_TIMES = {"startedAt": "started_at", "completedAt": "completed_at", "lastHeartbeatTime": "last_heartbeat_at"}
_STATUS = {"errorMessage": "error_message", "peakConcurrency": "peak_concurrency"}
_PROGRESS = {"lastHeartbeatTime", "processes", "peakConcurrency"}  # what progress and heartbeat calls carry


class Forbidden(ApiProblem):
    status = 403


class Conflict(ApiProblem):
    status = 409


class Unavailable(ApiProblem):
    status = 503


class RunWriter(Protocol):
    def create(
        self, session: Session, *, namespace: str, name: str, owner: str, spec: dict[str, Any], status: dict[str, Any]
    ) -> str:
        """Create the run (its object `name` in `namespace`); returns its run id."""

    def find(self, session: Session, *, ref: str, namespace: str) -> RunRecord | None:
        """The run a launcher created for TOWER_WORKFLOW_ID (its name or id), if any."""

    def apply(self, session: Session, *, binding: TraceBinding, spec: dict[str, Any], status: dict[str, Any]) -> None:
        """Merge spec and status fields (camelCase, as the resource holds them) into
        the run, creating it on first use. A run's name never changes once set."""


class IndexRuns:
    def create(
        self, session: Session, *, namespace: str, name: str, owner: str, spec: dict[str, Any], status: dict[str, Any]
    ) -> str:
        binding = TraceBinding(workflow_id="", run_id=str(uuid.uuid4()), namespace=namespace, name=name, owner=owner)
        self.apply(session, binding=binding, spec=spec, status=status)
        return binding.run_id

    def find(self, session: Session, *, ref: str, namespace: str) -> RunRecord | None:
        return runs.get_run(session, ref=ref, namespace=namespace)

    def apply(self, session: Session, *, binding: TraceBinding, spec: dict[str, Any], status: dict[str, Any]) -> None:
        if not spec and status.keys() <= _PROGRESS:  # a progress report: a few columns, not the whole run
            processes = status.get("processes")
            if runs.report_progress(
                session,
                run_id=binding.run_id,
                last_heartbeat_at=parse_time(status.get("lastHeartbeatTime")),
                peak_concurrency=status.get("peakConcurrency"),
                processes=None if processes is None else [ProcessCounts(**p) for p in processes],
            ):
                return
        record = runs.get_run(session, ref=binding.run_id) or RunRecord(
            id=binding.run_id,
            namespace=binding.namespace,
            name=binding.name,
            run_name=spec.get("runName") or binding.name,
            owner=binding.owner,
            created_at=datetime.now(UTC),
        )
        changes: dict[str, Any] = {field: spec[key] for key, field in _SPEC.items() if key in spec}
        changes |= {
            field: spec["workflow"][key] for key, field in _WORKFLOW.items() if key in (spec.get("workflow") or {})
        }
        changes |= {field: parse_time(status[key]) for key, field in _TIMES.items() if key in status}
        changes |= {field: status[key] for key, field in _STATUS.items() if key in status}
        if "phase" in status:
            changes.update(phase=status["phase"], state=status["phase"])  # no operator derives it here
        if "processes" in status:
            changes["processes"] = tuple(ProcessCounts(**p) for p in status["processes"])
        heartbeat, before = changes.get("last_heartbeat_at"), record.last_heartbeat_at
        if heartbeat is not None and before is not None and heartbeat < before:
            changes["last_heartbeat_at"] = before  # an older report never moves liveness back
        runs.upsert_run(session, record=replace(record, **changes))
