"""Reviewing a lifecycle request before anything is touched.

`review` decides, from facts about the run and the request alone, whether a
lifecycle job may start, is already done (outputs already deleted), or must be
refused — and says why in words a user can act on: moves and rewrites of deleted
outputs, and the prefix fence's refusals (`tracker.domain.fence`: bucket roots,
prefixes that also hold another run's outputs, destinations that overlap the source).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tracker.domain import fence
from tracker.domain.authz import Admins, authorize
from tracker.domain.records import Operation
from tracker.domain.s3url import InvalidS3Url, S3Url, parse_prefix


class Outcome(StrEnum):
    START = "start"  # go ahead
    DONE = "done"  # nothing to do: succeed at once
    REFUSE = "refuse"  # fail with the reason


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str = ""
    message: str = ""
    source: S3Url | None = None
    destination: S3Url | None = None


@dataclass(frozen=True)
class RunFacts:
    run_name: str
    owner: str
    cluster: str | None
    output_dir: str | None
    outputs_deleted: bool


@dataclass(frozen=True)
class Request:
    operation: Operation
    requested_by: str
    requested_by_groups: tuple[str, ...] = ()
    destination: str | None = None


def _refuse(reason: str, message: str) -> Verdict:
    return Verdict(Outcome.REFUSE, reason, message)


def review(
    request: Request,
    run: RunFacts,
    *,
    admins: Admins,
    operator_identity: str,
    runs_sharing_prefix: Sequence[str] = (),
) -> Verdict:
    """May `request` proceed on `run`? `runs_sharing_prefix` names other indexed runs
    whose outputs lie under (or over) the run's outputDir."""
    operation = request.operation
    if not (operation is Operation.INDEX_OUTPUTS and request.requested_by == operator_identity):
        decision = authorize(
            user=request.requested_by,
            groups=request.requested_by_groups,
            action=operation.value.replace("_", " "),
            run_name=run.run_name,
            owner=run.owner,
            cluster=run.cluster,
            admins=admins,
        )
        if not decision.allowed:
            return _refuse("Forbidden", decision.message)

    if run.outputs_deleted:
        if operation in (Operation.DELETE_OUTPUTS, Operation.MARK_OUTPUTS_DELETED):
            return Verdict(
                Outcome.DONE, "AlreadyDeleted", f"the outputs of run {run.run_name!r} are already marked deleted"
            )
        return _refuse(
            "OutputsDeleted",
            f"the outputs of run {run.run_name!r} are marked deleted: "
            f"there is nothing to {operation.value.replace('_', ' ')}",
        )
    if not run.output_dir:
        return _refuse("NoOutputDir", f"run {run.run_name!r} has no spec.outputDir")
    try:
        source = parse_prefix(run.output_dir, field="outputDir")
    except InvalidS3Url as error:
        return _refuse("InvalidOutputDir", str(error))
    if operation is Operation.MARK_OUTPUTS_DELETED or operation is Operation.INDEX_OUTPUTS:
        return Verdict(Outcome.START, source=source)

    destination = None
    if operation in (Operation.MOVE_OUTPUTS, Operation.REWRITE_OUTPUT_PATHS):
        if not request.destination:
            return _refuse("InvalidDestination", f"{operation} needs spec.destination")
        try:
            destination = parse_prefix(request.destination, field="destination")
        except InvalidS3Url as error:
            return _refuse("InvalidDestination", str(error))
        try:
            fence.guard_copy(source, destination, operation.value.replace("_outputs", "").replace("_output_paths", ""))
        except fence.FenceError as error:
            return _refuse(error.reason, str(error))
        if destination.is_bucket_root:
            return _refuse("BucketRoot", f"destination {destination} is a bucket root: name a prefix")
    try:
        if operation in (Operation.DELETE_OUTPUTS, Operation.MOVE_OUTPUTS):
            action = operation.value.replace("_outputs", "")
            fence.guard(source, action)
            fence.refuse_shared(source, runs_sharing_prefix, action)
    except fence.FenceError as error:
        return _refuse(error.reason, str(error))
    return Verdict(Outcome.START, source=source, destination=destination)
