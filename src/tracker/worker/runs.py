"""The run a lifecycle job names, for admission and the worker: its WorkflowRun, else
(the archiver removed it) the archived run rebuilt from the index, which holds every
fact a job needs (owner, cluster, outputDir, whether its outputs are deleted).

A run a user deleted is not found: only archived runs keep their lifecycle jobs
working. Writers of the run resource skip an archived one (`convert.is_archived`):
the index is then the run's only record.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client
from sqlalchemy.orm import Session, sessionmaker

from tracker.kube import convert
from tracker.kube.runs import AmbiguousRunName, find_run
from tracker.store import runs as run_rows
from tracker.store.errors import AmbiguousRun


def find_job_run(
    api: client.ApiClient, sessions: sessionmaker[Session], *, ref: str, namespace: str
) -> dict[str, Any] | None:
    """The WorkflowRun (or archived run) whose run name or id is `ref` in `namespace`."""
    run = find_run(api, ref=ref, namespace=namespace)
    if run is not None:
        return run
    with sessions() as session:
        try:
            record = run_rows.get_run(session, ref=ref, namespace=namespace)
        except AmbiguousRun as error:
            raise AmbiguousRunName(str(error)) from error
        if record is None or record.archived_at is None:
            return None
        summary = run_rows.outputs_summary(session, run_id=record.id)
    return convert.archived_run_body(record, summary)
