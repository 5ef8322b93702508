"""What each trace call does, in one transaction: find the caller's run, map the body
(`tracker.domain.nextflow`), write task attempts and run fields, commit. The answer is
sent only after the commit, so an acknowledged report is durable."""

from __future__ import annotations

import secrets
import string
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tracker.api.auth import User
from tracker.api.errors import BadParameter, NotFound
from tracker.api.tower.identity import RunPermissions
from tracker.api.tower.runs import Conflict, Forbidden, RunWriter
from tracker.domain import nextflow, placement
from tracker.domain.placement import PlacementError
from tracker.domain.records import Phase
from tracker.domain.tracevalues import TraceError
from tracker.settings import TowerSettings
from tracker.store import tasks, traces
from tracker.store.errors import AmbiguousRun, DuplicateRunName
from tracker.store.traces import TraceBinding

_ALPHABET = string.ascii_letters + string.digits
WORKFLOW_ID_LENGTH = 14  # Tower's ids are about 14 base62 characters; Nextflow keeps 16


Compute = Callable[[TraceBinding], tuple[dict[str, Any], dict[str, Any], list[Any]]]


class TraceReceiver:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        writer: RunWriter,
        permissions: RunPermissions,
        settings: TowerSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions, self._writer, self._permissions = sessions, writer, permissions
        self._settings, self._clock = settings, clock
        bind = sessions.kw.get("bind")
        # SQLite has one writer at a time; waiting here in order is far faster than
        # SQLite's busy handler, which sleeps and retries.
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._serial: AbstractContextManager[Any] = threading.Lock() if sqlite else nullcontext()

    def create(self, user: User, body: dict[str, Any], *, workspace_id: str | None) -> TraceBinding:
        """A new workflow id for this execution: bound to the launcher's run
        (TOWER_WORKFLOW_ID), to the run of the same session (a resume), or to a new run."""
        try:
            namespace = placement.namespace_for(
                user.name,
                workspace_id=workspace_id,
                workspaces=self._settings.workspaces,
                default=self._settings.default_namespace,
            )
        except PlacementError as error:
            raise Forbidden(str(error)) from error
        if not self._permissions.may_create_runs(user, namespace):
            raise Forbidden(f"{user.name!r} may not create WorkflowRuns in namespace {namespace!r}")
        with _mapped():
            spec = nextflow.run_spec(body)
            status = {"lastHeartbeatTime": nextflow.progress_status(body, self._clock())["lastHeartbeatTime"]}
        if not spec.get("runName"):
            raise BadParameter("runName: the create call must name the run")
        session_id = spec.get("sessionId")
        with self._serial, self._sessions.begin() as session, _stored():
            run_id, name = self._target(session, user, namespace, spec, body.get("workflowId"))
            if run_id is None:
                run_id = self._writer.create(
                    session,
                    namespace=namespace,
                    name=name,
                    owner=user.name,
                    spec=spec,
                    status=status | {"phase": Phase.SUBMITTED.value},
                )
                spec, status = {}, {}
            spec.pop("runName", None)  # a run keeps the name it was created with
            binding = TraceBinding(
                workflow_id=_workflow_id(),
                run_id=run_id,
                namespace=namespace,
                name=name,
                owner=user.name,
                session_id=session_id,
            )
            traces.add_binding(session, binding=binding)
            self._writer.apply(session, binding=binding, spec=spec, status=status)
        return binding

    def _target(
        self, session: Session, user: User, namespace: str, spec: dict[str, Any], bound: Any
    ) -> tuple[str | None, str]:
        """The run id and object name to report on; no id yet for a new run."""
        if bound:
            existing = self._writer.find(session, ref=str(bound), namespace=namespace)
            if existing is None:
                raise NotFound(f"TOWER_WORKFLOW_ID {bound!r} names no run in namespace {namespace!r}")
            if existing.owner != user.name:
                raise Forbidden(f"run {bound!r} belongs to {existing.owner!r}, not {user.name!r}")
            return existing.id, existing.name
        previous = spec.get("sessionId") and traces.latest_for_session(
            session, namespace=namespace, session_id=spec["sessionId"]
        )
        if previous and previous.owner == user.name:
            return previous.run_id, previous.name  # a resumed session continues its run
        return None, placement.object_name(spec["runName"])

    def begin(self, user: User, workflow_id: str, body: dict[str, Any]) -> TraceBinding:
        return self._report(
            user,
            workflow_id,
            lambda _b: (nextflow.run_spec({}, body.get("workflow")), nextflow.begin_status(body, self._clock()), []),
            facts=lambda: nextflow.runner_facts(body.get("workflow")),
        )

    def progress(self, user: User, workflow_id: str, body: dict[str, Any]) -> TraceBinding:
        def compute(binding: TraceBinding) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
            attempts = [
                nextflow.task_record(raw, execution=binding.workflow_id, index=index)
                for index, raw in enumerate(body.get("tasks") or [])
            ]
            return {}, nextflow.progress_status(body, self._clock()), attempts

        return self._report(user, workflow_id, compute)

    def complete(self, user: User, workflow_id: str, body: dict[str, Any]) -> TraceBinding:
        return self._report(
            user,
            workflow_id,
            lambda _b: (nextflow.run_spec({}, body.get("workflow")), nextflow.complete_status(body, self._clock()), []),
            facts=lambda: nextflow.runner_facts(body.get("workflow")),
        )

    def touch(self, user: User, workflow_id: str) -> TraceBinding:
        """A call that carries no run fields (the scheduler PATCH): liveness only."""
        return self._report(user, workflow_id, lambda _b: ({}, nextflow.progress_status({}, self._clock()), []))

    def _report(
        self, user: User, workflow_id: str, compute: Compute, *, facts: Callable[[], dict[str, Any]] | None = None
    ) -> TraceBinding:
        """Apply what `compute` derives from the call; `facts` (about the runner, such
        as its log file) are kept in the binding's `reported`."""
        with self._serial, self._sessions.begin() as session, _stored():
            binding = traces.get_binding(session, workflow_id=workflow_id, lock=True)
            if binding is None:
                raise NotFound(f"unknown workflow id {workflow_id!r}: start the run with POST /trace/create")
            if binding.owner != user.name:
                raise Forbidden(f"workflow {workflow_id!r} was created by {binding.owner!r}, not {user.name!r}")
            with _mapped():
                spec, status, attempts = compute(binding)
                known = facts() if facts is not None else {}
            spec.pop("runName", None)  # the run keeps the name it was created with
            tasks.upsert_tasks(session, run_id=binding.run_id, tasks=attempts)
            if known and binding.reported | known != binding.reported:
                traces.set_reported(session, workflow_id=workflow_id, reported=binding.reported | known)
            self._writer.apply(session, binding=binding, spec=spec, status=status)
        return binding


def _workflow_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(WORKFLOW_ID_LENGTH))


@contextmanager
def _mapped() -> Iterator[None]:
    """A body that cannot be mapped is the caller's mistake: 422 naming the field."""
    try:
        yield
    except TraceError as error:
        raise BadParameter(str(error)) from error


@contextmanager
def _stored() -> Iterator[None]:
    """Store refusals that are the caller's to fix become 409s."""
    try:
        yield
    except (DuplicateRunName, AmbiguousRun) as error:
        raise Conflict(str(error)) from error
