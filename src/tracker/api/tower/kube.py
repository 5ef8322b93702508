"""Runs as WorkflowRuns: the trace receiver's Kubernetes writer.

A new run is a WorkflowRun in the caller's namespace (its run id is the object's
uid, which the operator adopts as `status.id`); spec changes (begin, complete) are
merge patches sent at once; status reports go through a per-run `StatusCoalescer`
and a writer thread, so a run reporting every second costs a few status writes a
minute. Phase changes are written before the call is answered. The operator then
derives Disconnected/Stalled, emits Events and indexes the run and its outputs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from sqlalchemy.orm import Session
from urllib3.exceptions import HTTPError

from tracker.api.errors import ApiProblem, BadParameter
from tracker.api.tower.runs import Conflict, Unavailable
from tracker.domain.coalesce import StatusCoalescer
from tracker.domain.records import RunRecord
from tracker.kube import manifests
from tracker.kube.resources import GROUP, RUNS, VERSION
from tracker.kube.runs import AmbiguousRunName, find_run
from tracker.store.traces import TraceBinding

log = logging.getLogger(__name__)
Key = tuple[str, str]  # namespace, object name


class KubernetesRuns:
    def __init__(
        self, api: Any, *, interval: timedelta, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._api, self._custom, self._clock = api, client.CustomObjectsApi(api), clock
        self._coalescer = StatusCoalescer(interval)
        self._lock, self._wake, self._stop = threading.Lock(), threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="tower-status-writer", daemon=True)
        self.status_writes = 0

    def start(self) -> KubernetesRuns:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the writer thread after writing whatever is pending."""
        self._stop.set()
        self._wake.set()
        self._thread.join(30)

    def create(
        self, session: Session, *, namespace: str, name: str, owner: str, spec: dict[str, Any], status: dict[str, Any]
    ) -> str:
        body = manifests.workflow_run_resource(namespace=namespace, name=name, spec=spec | {"owner": owner})
        try:
            created: dict[str, Any] = self._custom.create_namespaced_custom_object(  # type: ignore[assignment]
                GROUP, VERSION, namespace, RUNS, body
            )
        except ApiException as error:
            if error.status == 409:
                raise Conflict(f"a WorkflowRun named {name!r} already exists in namespace {namespace!r}") from error
            raise _refused(error, f"cannot create WorkflowRun {name!r} in {namespace!r}") from error
        except (HTTPError, OSError) as error:
            raise _unavailable(error, "cannot reach the Kubernetes API server") from error
        self._write((namespace, name), status)
        run_id: str = created["metadata"]["uid"]
        return run_id

    def find(self, session: Session, *, ref: str, namespace: str) -> RunRecord | None:
        try:
            body = find_run(self._api, ref=ref, namespace=namespace)
        except AmbiguousRunName as error:
            raise Conflict(str(error)) from error
        except (ApiException, HTTPError, OSError) as error:
            raise _unavailable(error, f"cannot look up run {ref!r}") from error
        if body is None:
            return None
        metadata, spec = body["metadata"], body.get("spec") or {}
        run_id = (body.get("status") or {}).get("id") or metadata["uid"]
        return RunRecord(
            id=run_id,
            namespace=metadata["namespace"],
            name=metadata["name"],
            run_name=spec.get("runName", ""),
            owner=spec.get("owner", ""),
        )

    def apply(self, session: Session, *, binding: TraceBinding, spec: dict[str, Any], status: dict[str, Any]) -> None:
        key = (binding.namespace, binding.name)
        spec = {k: v for k, v in spec.items() if k != "runName"}  # immutable once created
        if spec:
            try:
                self._custom.patch_namespaced_custom_object(GROUP, VERSION, key[0], RUNS, key[1], {"spec": spec})
            except ApiException as error:
                raise _refused(error, f"cannot update WorkflowRun {key[1]!r}") from error
            except (HTTPError, OSError) as error:
                raise _unavailable(error, "cannot reach the Kubernetes API server") from error
        if not status:
            return
        with self._lock:
            self._coalescer.add(key, status, self._clock())
            urgent = "phase" in status
            pending = self._coalescer.take(key) if urgent else None
        if pending is not None:
            self._write(key, pending)  # a state change is written before the answer
        self._wake.set()

    def _write(self, key: Key, patch: dict[str, Any]) -> None:
        try:
            self._custom.patch_namespaced_custom_object_status(GROUP, VERSION, key[0], RUNS, key[1], {"status": patch})
            self.status_writes += 1
        except ApiException as error:
            if error.status == 404:
                log.warning("WorkflowRun %s/%s is gone: its status report is dropped", *key)
                return
            raise _refused(error, f"cannot report on WorkflowRun {key[1]!r}") from error
        except (HTTPError, OSError) as error:
            raise _unavailable(error, "cannot reach the Kubernetes API server") from error

    def _run(self) -> None:
        while True:
            stopping = self._stop.is_set()
            now = self._clock()
            with self._lock:
                due = self._coalescer.drain() if stopping else self._coalescer.take_due(now)
                next_due = self._coalescer.next_due()
            for key, patch in due:
                try:
                    self._write(key, patch)  # type: ignore[arg-type]
                except Unavailable as error:
                    log.warning("status of %s not written, will retry: %s", key, error.detail)
                    if not stopping:
                        with self._lock:
                            self._coalescer.give_back(key, patch, self._clock())
                except ApiProblem as error:  # refused as invalid: retrying cannot help
                    log.error("status of %s refused, dropped: %s", key, error.detail)
            if stopping:
                return
            delay = 1.0 if next_due is None else max(0.05, min(1.0, (next_due - self._clock()).total_seconds()))
            self._wake.wait(delay)
            self._wake.clear()


def _unavailable(error: Exception, doing: str) -> Unavailable:
    reason = getattr(error, "reason", None) or type(error).__name__
    log.error("%s: %s", doing, reason)
    return Unavailable(f"{doing}: the Kubernetes API server answered {reason}")


def _refused(error: ApiException, doing: str) -> ApiProblem:
    """The API server's refusal: invalid fields are the caller's (422, with the
    server's message), anything else is ours to retry (503)."""
    if error.status in (400, 422):
        try:
            message = json.loads(error.body or "{}").get("message") or error.reason
        except ValueError:
            message = error.reason
        return BadParameter(f"{doing}: {message}")
    return _unavailable(error, doing)
