"""A small typed client of the read API, for the CLI.

    with ApiClient("http://tracker-api:8000", token=TOKEN) as api:
        for run in api.lookup("s3://bucket/runs/foo/").items:
            print(run.run_name, run.id)

Every failure is an `ApiError(status, message)`: the server's one-line `detail`,
status 0 when the API could not be reached or answered something unreadable.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from tracker.api import paths, schemas

M = TypeVar("M", bound=BaseModel)
Params = Mapping[str, str | int | Sequence[str] | None]


class ApiError(Exception):
    """The read API refused or failed a request (`status` 0: no usable answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return self.message


class ApiClient:
    def __init__(
        self, base_url: str, token: str | None = None, *, timeout: float = 30.0, http: httpx.Client | None = None
    ) -> None:
        """`base_url`: the API's root (`http://host:8000`, a trailing `/api/v1` is
        accepted). `http`: an httpx client to send with (tests pass a TestClient)."""
        base = base_url.rstrip("/")
        self.base_url = base.removesuffix(paths.API)
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._own = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)

    # -- runs ------------------------------------------------------------------------
    def runs(
        self,
        *,
        state: Sequence[str] | None = None,
        owner: str | None = None,
        cluster: str | None = None,
        labels: Mapping[str, str] | None = None,
        name: str | None = None,
        created_after: str | None = None,
        created_before: str | None = None,
        namespace: str | None = None,
        archived: bool | None = None,
        sort: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> schemas.RunPage:
        label = [f"{k}={v}" for k, v in (labels or {}).items()]
        params = {
            "state": list(state or []),
            "owner": owner,
            "cluster": cluster,
            "label": label,
            "name": name,
            "created_after": created_after,
            "created_before": created_before,
            "namespace": namespace,
            "archived": None if archived is None else str(archived).lower(),
            "sort": sort,
            "limit": limit,
            "offset": offset,
        }
        return self._get(schemas.RunPage, paths.api_path(paths.RUNS), params)

    def run(self, ref: str, *, namespace: str | None = None) -> schemas.RunDetail:
        """The run (id or run name) with everything the Run Detail page shows."""
        return self._get(schemas.RunDetail, paths.api_path(paths.RUN, run=ref), {"namespace": namespace})

    def run_outputs(
        self,
        ref: str,
        *,
        dir: str = "",
        q: str | Sequence[str] | None = None,
        namespace: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> schemas.RunOutputs:
        """One directory level of the run's outputs, or (with `q`) those matching."""
        words = q if isinstance(q, str) or q is None else " ".join(q)
        return self._get(
            schemas.RunOutputs,
            paths.api_path(paths.RUN_OUTPUTS, run=ref),
            {"dir": dir or None, "q": words, "namespace": namespace, "limit": limit, "offset": offset},
        )

    def run_jobs(self, ref: str, *, namespace: str | None = None, limit: int = 50, offset: int = 0) -> schemas.JobPage:
        return self._get(
            schemas.JobPage,
            paths.api_path(paths.RUN_JOBS, run=ref),
            {"namespace": namespace, "limit": limit, "offset": offset},
        )

    def run_tasks(
        self,
        ref: str,
        *,
        namespace: str | None = None,
        process: str | None = None,
        status: Sequence[str] | None = None,
        sort: str = "task_id",
        limit: int = 100,
        offset: int = 0,
    ) -> schemas.TaskPage:
        return self._get(
            schemas.TaskPage,
            paths.api_path(paths.RUN_TASKS, run=ref),
            {
                "namespace": namespace,
                "process": process,
                "status": list(status or []),
                "sort": sort,
                "limit": limit,
                "offset": offset,
            },
        )

    # -- outputs ---------------------------------------------------------------------
    def lookup(self, url: str, *, limit: int = 100) -> schemas.LookupResult:
        """Runs whose outputs contain `url` (any case): `tracker outputs info`."""
        return self._get(schemas.LookupResult, paths.api_path(paths.OUTPUTS_LOOKUP), {"url": url, "limit": limit})

    def search(self, words: str | Sequence[str], *, limit: int = 100, offset: int = 0) -> schemas.OutputMatchPage:
        """Outputs of every run whose URL contains all `words` (any case)."""
        q = words if isinstance(words, str) else " ".join(words)
        return self._get(
            schemas.OutputMatchPage, paths.api_path(paths.OUTPUTS_SEARCH), {"q": q, "limit": limit, "offset": offset}
        )

    # -- jobs ------------------------------------------------------------------------
    def jobs(
        self,
        *,
        run: str | None = None,
        phase: str | None = None,
        operation: str | None = None,
        namespace: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> schemas.JobPage:
        return self._get(
            schemas.JobPage,
            paths.api_path(paths.JOBS),
            {
                "run": run,
                "phase": phase,
                "operation": operation,
                "namespace": namespace,
                "limit": limit,
                "offset": offset,
            },
        )

    def job(self, job_id: str) -> schemas.Job:
        return self._get(schemas.Job, paths.api_path(paths.JOB, job_id=job_id), {})

    # -- plumbing --------------------------------------------------------------------
    def _get(self, model: type[M], path: str, params: Params) -> M:
        query = {k: v for k, v in params.items() if v is not None and v != []}
        try:
            response = self._http.get(self.base_url + path, params=query, headers=self._headers)
        except httpx.HTTPError as error:
            raise ApiError(0, f"cannot reach the read API at {self.base_url}: {error}") from error
        if response.status_code >= 400:
            raise ApiError(response.status_code, _message(response))
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError) as error:
            raise ApiError(0, f"unexpected answer from the read API at {self.base_url}{path}") from error

    def close(self) -> None:
        if self._own:
            self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def _message(response: httpx.Response) -> str:
    """The server's `detail`, else the status line."""
    detail: object = None
    with contextlib.suppress(ValueError, AttributeError):
        detail = response.json().get("detail")
    if not isinstance(detail, str) or not detail:
        detail = f"{response.status_code} {response.reason_phrase}".strip()
    if response.status_code == 401:
        return f"not authenticated: {detail} (check --token / TRACKER_TOKEN)"
    return detail
