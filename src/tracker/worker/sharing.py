"""The shared-prefix rule against the index: which other runs' outputs lie under (or
over) a run's outputDir. Admission asks it before a delete or move is accepted, and the
worker asks again when it starts one, since another run may have been indexed under
the prefix in between; the rule itself is `tracker.domain.fence.refuse_shared`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tracker.domain import fence
from tracker.domain.s3url import InvalidS3Url, S3Url
from tracker.store import lookup


def runs_sharing(session: Session, run: dict[str, Any]) -> list[str]:
    """Names of the other runs with outputs under or over the run's outputDir (none for
    a missing or malformed outputDir, which admission refuses for what it is)."""
    output_dir = run["spec"].get("outputDir")
    if not output_dir:
        return []
    try:
        found = lookup.runs_with_outputs_under(session, prefix=output_dir, exclude_run_id=run["status"]["id"])
    except InvalidS3Url:
        return []
    return [r.run_name for r in found]


def refuse_shared(sessions: sessionmaker[Session], run: dict[str, Any], prefix: S3Url, action: str) -> None:
    """`fence.SharedPrefix` naming the other runs, when `prefix` holds their outputs."""
    with sessions() as session:
        fence.refuse_shared(prefix, runs_sharing(session, run), action)
