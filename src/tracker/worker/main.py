"""`tracker-worker --namespace NS --job NAME --uid UID`: run one OutputLifecycleJob's S3 work.

The operator starts it as a Kubernetes Job in the tracker's namespace; the arguments
name the lifecycle job (in its own namespace), and the uid guards against one deleted
and re-created under the same name. A pod of a sharded job also gets `--shard-index I
--shard-ranges JSON` (its completion index, every shard's key range) and works on
its own range only (`tracker.domain.shards`, `tracker.worker.shardreporter`).

Exit codes: 0 when the job (or the pod's shard) reached a final phase (Succeeded, or
Failed for a reason retrying cannot fix, recorded on the job) or is not this Job's to
run (gone, or another uid); 1 for anything else, so the Job's next pod resumes the work.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tracker.domain.records import JobPhase, Operation
from tracker.domain.s3url import InvalidS3Url
from tracker.domain.shards import Shard
from tracker.kube.client import load_api_client, resource
from tracker.kube.resources import GROUP, JOBS, VERSION
from tracker.s3.client import make_client
from tracker.s3.errors import S3OperationError, denied, error_code, is_denied
from tracker.settings import Settings
from tracker.store.engine import make_engine, session_factory
from tracker.worker.context import WorkerContext
from tracker.worker.delete import delete_outputs
from tracker.worker.index import index_outputs
from tracker.worker.move import move_outputs
from tracker.worker.reporter import JobReporter
from tracker.worker.runs import find_job_run
from tracker.worker.shardreporter import ShardReporter, ShardStopped

log = logging.getLogger("tracker.worker")
Operations = dict[str, Callable[[WorkerContext, dict[str, Any], dict[str, Any]], str]]
OPERATIONS: Operations = {
    Operation.INDEX_OUTPUTS: index_outputs,
    Operation.DELETE_OUTPUTS: delete_outputs,
    Operation.MOVE_OUTPUTS: move_outputs,
}
_PERMANENT_S3_ERRORS = {"NoSuchBucket", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


class PermanentFailure(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def run_job(ctx: WorkerContext, job: dict[str, Any]) -> str:
    spec, status = job["spec"], job.get("status") or {}
    # By the name the request gave (a field-selector query), then checked against the
    # run the operator admitted: a run re-created under that name is another run.
    run = find_job_run(ctx.api, ctx.sessions, ref=spec["run"], namespace=job["metadata"]["namespace"])
    if run is None or (status.get("runId") and (run.get("status") or {}).get("id") != status["runId"]):
        raise PermanentFailure("RunNotFound", f"run {spec['run']!r} no longer exists")
    ctx.reporter.running(run_id=run["status"]["id"])
    operation = OPERATIONS.get(spec["operation"])
    if operation is None:
        raise PermanentFailure("Unsupported", f"the worker does not run {spec['operation']}")
    try:
        return operation(ctx, run, job)
    except S3OperationError as error:
        raise PermanentFailure(error.reason, str(error)) from error
    except ClientError as error:
        # An S3 call the engines did not name: name the job's prefixes, one of which it was on.
        where = " or ".join(filter(None, (run["spec"].get("outputDir"), spec.get("destination"))))
        if is_denied(error):
            refused = denied(error, f"{error.operation_name} on {where}")
            raise PermanentFailure(refused.reason, str(refused)) from error
        code = error_code(error)
        if code in _PERMANENT_S3_ERRORS:
            raise PermanentFailure(
                code,
                f"S3 refused {error.operation_name} on {where}: {code}: {error.response['Error'].get('Message', '')}",
            ) from error
        raise
    except InvalidS3Url as error:  # the prefix fence's refusals carry their own reason
        raise PermanentFailure(getattr(error, "reason", "InvalidPrefix"), str(error)) from error


def own_job(api: client.ApiClient, namespace: str, name: str, uid: str) -> dict[str, Any] | None:
    """The lifecycle job this worker was started for; None if it is gone or re-created."""
    try:
        job = resource(client.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, namespace, JOBS, name))
    except ApiException as error:
        if error.status != 404:
            raise
        log.info("job %s/%s is gone; nothing to do", namespace, name)
        return None
    if job["metadata"]["uid"] != uid:
        log.warning(
            "job %s/%s is another job (uid %s, not %s); nothing to do", namespace, name, job["metadata"]["uid"], uid
        )
        return None
    return job


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tracker-worker", description=__doc__.splitlines()[0])
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--job", required=True, help="the OutputLifecycleJob's name")
    parser.add_argument("--uid", required=True, help="the OutputLifecycleJob's uid")
    parser.add_argument("--shard-index", type=int, help="this pod's shard (its Job completion index)")
    parser.add_argument("--shard-ranges", type=json.loads, help="every shard's key range, as JSON")
    args = parser.parse_args(argv)
    if (args.shard_index is None) != (args.shard_ranges is None):
        parser.error("--shard-index and --shard-ranges go together")
    shard = Shard.of(args.shard_index, args.shard_ranges) if args.shard_ranges is not None else None
    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    api = load_api_client()
    job = own_job(api, args.namespace, args.job, args.uid)
    if job is None:
        return 0
    if JobPhase((job.get("status") or {}).get("phase") or JobPhase.ENQUEUED).finished:
        log.info("job %s/%s already finished; nothing to do", args.namespace, args.job)
        return 0
    reporter = (
        JobReporter(api, args.namespace, args.job)
        if shard is None
        else ShardReporter(api, args.namespace, args.job, shard)
    )
    ctx = WorkerContext(
        settings=settings,
        api=api,
        sessions=session_factory(make_engine(settings.database_url)),
        s3=make_client(settings.s3),
        reporter=reporter,
        shard=shard,
    )
    try:
        message = run_job(ctx, job)
    except PermanentFailure as failure:
        log.error("job %s/%s failed: %s", args.namespace, args.job, failure)
        reporter.finish(JobPhase.FAILED, failure.reason, str(failure))
        return 0
    except ShardStopped as stopped:
        log.warning("job %s/%s: %s", args.namespace, args.job, stopped)
        if isinstance(reporter, ShardReporter):  # only a shard's reporter stops it
            reporter.stop(str(stopped))
        return 0
    except Exception:
        log.exception("job %s/%s: attempt failed; the Job will retry", args.namespace, args.job)
        reporter.flush()
        return 1
    reporter.finish(JobPhase.SUCCEEDED, "Completed", message)
    log.info("job %s/%s succeeded: %s", args.namespace, args.job, message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
