"""What the Actions menu and its pages show: whether the signed-in user is offered
"Delete output dir" on a run, the apiserver's refusal of a request as a readable
message, and a requested lifecycle job's progress. No I/O: the routes in
`tracker.api.web.actions` fetch, these shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tracker.api import paths, schemas, views
from tracker.api.auth import User
from tracker.api.web import presenters
from tracker.domain.contention import DUPLICATE
from tracker.domain.records import JobPhase, JobRecord
from tracker.domain.runactions import Offer, delete_offer
from tracker.settings import Settings

REFRESH_SECONDS = 2  # how often the progress page reloads itself while the job is active


def offer_for(settings: Settings, user: User | None, run: schemas.RunSummary) -> Offer:
    """ "Delete output dir" for `user` (None: nobody signed in) on `run`."""
    if user is None:
        return Offer(shown=False)
    return delete_offer(
        auth_mode=settings.api.auth_mode,
        user=user.name,
        groups=user.groups,
        owner=run.owner,
        cluster=run.cluster,
        admins=settings.admins.to_domain(),
        run_name=run.run_name,
        output_dir=run.output_dir,
        outputs_deleted=run.outputs.deleted,
    )


def menu(offer: Offer, run: schemas.RunSummary) -> dict[str, Any]:
    """The template context of run/actions.html: the menu is drawn when any action is shown."""
    return {
        "delete_offer": offer,
        "delete_href": paths.page_path(paths.PAGE_RUN_DELETE_OUTPUTS, run=run.id),
    }


@dataclass(frozen=True)
class Refusal:
    status: int
    title: str
    message: str


def refusal(status: int, body: str | bytes | None, reason: str | None) -> Refusal:
    """The apiserver's answer to a create as the page tells it: the `message` of the
    Status object it returns (RBAC's "forbidden", the admission policy's message, a
    validation error), under the HTTP status it came with; 5xx become 503."""
    message = reason or "no reason given"
    try:
        answer = json.loads(body or "{}")
        if isinstance(answer, dict) and answer.get("message"):
            message = str(answer["message"])
    except ValueError:
        pass
    if status == 401:
        return Refusal(401, "Sign in again", "The Kubernetes API server no longer accepts your token: sign in again.")
    if status == 403:
        return Refusal(403, "Refused by Kubernetes", f"Kubernetes refused the deletion job: {message}")
    if 400 <= status < 500:
        return Refusal(status, "Refused by Kubernetes", f"Kubernetes refused the deletion job ({status}): {message}")
    return Refusal(503, "Kubernetes unavailable", f"The Kubernetes API server answered {status}: {message}")


@dataclass(frozen=True)
class Progress:
    """A requested job as the progress page shows it."""

    job: schemas.Job
    active: bool
    headline: str
    progress: str
    failed: bool
    resolved_to: str | None = None  # the id of the job an identical request resolved to


def progress(requested: JobRecord, followed: JobRecord | None = None, *, taken_on: bool = True) -> Progress:
    """`requested` (the job this page created), or, when the operator resolved it to an
    identical active request (`Duplicate`), `followed` (that job). `taken_on`: the
    operator gave the job a status."""
    resolved = requested.reason == DUPLICATE
    record = followed if resolved and followed is not None else requested
    job = views.job(record)
    phase = JobPhase(record.phase)
    done = phase.finished
    if not taken_on:
        headline = "Requested: waiting for the operator to take the job on."
    elif not done:
        headline = (
            f"A deletion of these outputs was already {phase.lower()}: this request follows it."
            if resolved
            else f"Deleting the outputs: {phase.lower()}."
        )
    elif phase == JobPhase.SUCCEEDED and record.reason == "AlreadyDeleted":
        headline = "The outputs were already deleted: nothing to do."
    elif phase == JobPhase.SUCCEEDED:
        headline = "The outputs are deleted."
    else:
        headline = f"The deletion failed ({record.reason or 'Failed'}): {record.message or 'no message'}"
    return Progress(
        job=job,
        active=not done,
        headline=headline,
        progress=presenters.job_progress(job.counters),
        failed=phase == JobPhase.FAILED,
        resolved_to=requested.id if resolved else None,
    )
