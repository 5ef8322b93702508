"""A client of the tracker's trace receiver (the protocol Nextflow's `-with-tower`
speaks), for the runners that report through it: the WDL reporters.

Credentials go as Nextflow sends them: a JWT (a service-account token) as Bearer,
anything else as Basic `@token:`. A call the receiver refuses (4xx) raises
`TraceRefused` with its message at once; a call that cannot get through (connection
refused, a timeout, 5xx, 429) is retried with backoff for `retry_for` seconds, then
raises `TraceUnavailable`, so a tracker that restarts loses no report.
"""

from __future__ import annotations

import base64
import threading
from typing import Any

import httpx

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class TraceError(Exception):
    """A report that did not get through; `str()` is one line for a user."""


class TraceRefused(TraceError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the tracker refused the report ({status}): {detail}")
        self.status = status


class TraceUnavailable(TraceError):
    pass


def authorization(token: str) -> str:
    if token.count(".") == 2:
        return f"Bearer {token}"
    return "Basic " + base64.b64encode(f"@token:{token}".encode()).decode()


class TraceClient:
    def __init__(
        self,
        endpoint: str,
        token: str,
        *,
        workspace_id: str | None = None,
        retry_for: float = 300.0,
        timeout: float = 30.0,
        stopping: threading.Event | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=endpoint.rstrip("/"),
            headers={"Authorization": authorization(token), "User-Agent": "workflow-tracker-reporter"},
            params={"workspaceId": workspace_id} if workspace_id else None,
            timeout=timeout,
        )
        self._retry_for = retry_for
        self._stopping = stopping or threading.Event()

    def close(self) -> None:
        self._http.close()

    def create(self, body: dict[str, Any]) -> str:
        """The workflow id the receiver gives the run."""
        answer = self._call("POST", "/trace/create", body)
        workflow_id = answer.get("workflowId")
        if not isinstance(workflow_id, str) or not workflow_id:
            raise TraceUnavailable("the tracker's create answer carries no workflowId")
        return workflow_id

    def begin(self, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/trace/{workflow_id}/begin", body)

    def progress(self, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/trace/{workflow_id}/progress", body)

    def heartbeat(self, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/trace/{workflow_id}/heartbeat", body)

    def complete(self, workflow_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/trace/{workflow_id}/complete", body)

    def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        delay, waited = 0.5, 0.0
        while True:
            try:
                answer = self._http.request(method, path, json=body)
            except httpx.HTTPError as error:
                problem = f"cannot reach the tracker at {self._http.base_url}: {type(error).__name__}"
            else:
                if answer.status_code < 300:
                    result: dict[str, Any] = answer.json() if answer.content else {}
                    return result
                if answer.status_code not in RETRIED_STATUSES:
                    raise TraceRefused(answer.status_code, _detail(answer))
                problem = f"the tracker answered {answer.status_code}: {_detail(answer)}"
            if waited >= self._retry_for or self._stopping.is_set():
                raise TraceUnavailable(f"{problem} (gave up after {waited:.0f} s)")
            self._stopping.wait(delay)  # backoff between attempts; a stop ends it early
            waited, delay = waited + delay, min(delay * 2, 10.0)


def _detail(answer: httpx.Response) -> str:
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    return str(detail) if detail else answer.reason_phrase
