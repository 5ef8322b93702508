"""The demo of the local system: WorkflowRuns in every state, reported the way a
runner reports them (merge patches of the status subresource, through the function
`tracker report` uses), and outputs in a bucket of the local S3 server.

`Demo.seed()` creates everything at once; `Demo.tick()`, called about every second,
sends the heartbeats that are due and takes each run's next scripted step once its
condition holds (delete outputs once they are indexed, resume a failed run once its
first execution is in the index). Each run then settles in its state through the
operator's own logic: nothing here writes a field the operator owns.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from localcluster.controlplane import ControlPlane
from localcluster.s3server import S3Server, put_objects
from tracker.api.client import ApiClient, ApiError
from tracker.cli.context import CliContext
from tracker.cli.errors import CliError
from tracker.cli.lifecycle import Lifecycle
from tracker.cli.report import patch_run_status, phase_report
from tracker.domain.conditions import rfc3339
from tracker.domain.records import Operation, Phase
from tracker.kube.resources import API_VERSION, GROUP, RUN_KIND, RUNS, VERSION
from tracker.kube.runs import find_run

NAMESPACE = "demo"
BUCKET = "demo-outputs"
HEARTBEAT_SECONDS = 10.0
STALLED_AFTER_SECONDS = 30
DISCONNECTED_FOR = timedelta(minutes=25)
Status = dict[str, Any]
Say = Callable[[str], None]
T = TypeVar("T")
# Errors of one demo call that the next tick retries (the API may be briefly busy).
TRANSIENT = (CliError, ApiError, ApiException, HTTPError, OSError)


@dataclass(frozen=True)
class DemoRun:
    """One demo run: who launched what, and the state it settles in."""

    run_name: str
    owner: str
    cluster: str
    engine: str
    repository: str
    state: str
    story: str
    outputs: str | None = None  # "indexed" or "deleted" once settled
    spec: Mapping[str, Any] = field(default_factory=dict)

    @property
    def resource_name(self) -> str:
        return self.run_name.replace("_", "-")

    @property
    def output_dir(self) -> str:
        return f"s3://{BUCKET}/runs/{self.run_name}/"

    def manifest(self) -> dict[str, Any]:
        pipeline = self.repository.rsplit("/", 1)[-1]
        return {
            "apiVersion": API_VERSION,
            "kind": RUN_KIND,
            "metadata": {
                "name": self.resource_name,
                "namespace": NAMESPACE,
                "labels": {"project": "demo", "pipeline": pipeline},
            },
            "spec": {
                "runName": self.run_name,
                "owner": self.owner,
                "cluster": self.cluster,
                "engine": self.engine,
                "workflow": {"repository": self.repository, "revision": "3.14.0", "commit": "3f2c9e1b7d40"},
                "workDir": f"s3://{BUCKET}/work/{self.run_name}/",
                "outputDir": self.output_dir,
                "commandLine": f"nextflow run {self.repository} -r 3.14.0 -name {self.run_name} -profile hpc",
                "params": {"genome": "GRCh38", "input": f"s3://{BUCKET}/samplesheets/{pipeline}.csv"},
                **self.spec,
            },
        }


LIVE = DemoRun(
    "rnaseq-demo-001",
    "alice",
    "hpc-a",
    "nextflow",
    "https://github.com/nf-core/rnaseq",
    "Running",
    f"live: a heartbeat every {HEARTBEAT_SECONDS:g} s, and its task counts advance",
)
DISCONNECTED = DemoRun(
    "chipseq-demo-002",
    "bob",
    "hpc-b",
    "nextflow",
    "https://github.com/nf-core/chipseq",
    "Disconnected",
    "its runner's last heartbeat was 25 minutes ago (timeout: 5 minutes)",
)
STALLED = DemoRun(
    "methylseq-demo-003",
    "carol",
    "hpc-a",
    "nextflow",
    "https://github.com/nf-core/methylseq",
    "Stalled",
    f"heartbeats go on but every task is done: flagged {STALLED_AFTER_SECONDS} s after "
    f"the operator first sees it (spec.stalledAfterSeconds)",
    spec={"stalledAfterSeconds": STALLED_AFTER_SECONDS},
)
INDEXED = DemoRun(
    "variant-calling-007",
    "bob",
    "hpc-b",
    "wdl",
    "https://github.com/broadinstitute/warp",
    "Succeeded",
    "its outputs get indexed by the operator's index_outputs job",
    outputs="indexed",
)
DELETED = DemoRun(
    "atacseq-demo-005",
    "alice",
    "hpc-a",
    "nextflow",
    "https://github.com/nf-core/atacseq",
    "Succeeded",
    "indexed, then its outputs are deleted by a delete_outputs job (as admin)",
    outputs="deleted",
)
FAILED = DemoRun(
    "sad_einstein",
    "alice",
    "hpc-a",
    "nextflow",
    "https://github.com/nf-core/sarek",
    "Failed",
    "failed, was resumed, failed again: two executions in its resume history",
    outputs="indexed",
    spec={"sessionId": "8f6d2c1e-5b7a-4c3e-9d21-0a4f6e8b9c17"},
)
RUNS_IN_ORDER = (LIVE, DISCONNECTED, STALLED, INDEXED, DELETED, FAILED)


# -- what the runners report (pure) -------------------------------------------------
LIVE_STAGES = (("FASTQC", 24), ("STAR_ALIGN", 24), ("SALMON_QUANT", 24))
LIVE_SLOTS = 4  # tasks of a stage running at once
LIVE_DONE_AT_START = 30  # tasks finished when the demo starts


def live_processes(tick: int) -> list[Status]:
    """The live run's processes after `tick` heartbeats: one more task finishes per
    heartbeat, stage after stage; MULTIQC waits for them all, so a task is always
    active and the run never looks stalled."""
    done = LIVE_DONE_AT_START + tick
    processes, before = [], 0
    for name, total in LIVE_STAGES:
        succeeded = min(total, max(0, done - before))
        running = min(LIVE_SLOTS, total - succeeded) if done >= before else 0
        processes.append(
            {"name": name, "succeeded": succeeded, "running": running, "pending": total - succeeded - running}
        )
        before += total
    last_finished = done >= before
    processes.append({"name": "MULTIQC", "running": int(last_finished), "pending": int(not last_finished)})
    return processes


def live_report(tick: int, now: datetime) -> Status:
    """The live run's heartbeat: progress, cost so far and peak concurrency."""
    return {
        "lastHeartbeatTime": rfc3339(now),
        "processes": live_processes(tick),
        "cost": round(3.2 + 0.05 * tick, 2),
        "peakConcurrency": 2 * LIVE_SLOTS,
    }


def first_reports(now: datetime) -> dict[str, Status]:
    """What each runner has reported when the demo starts, by run name."""

    def ago(**delta: float) -> str:
        return rfc3339(now - timedelta(**delta))

    return {
        LIVE.run_name: {"phase": "Running", "startedAt": ago(minutes=40), **live_report(0, now)},
        DISCONNECTED.run_name: {
            "phase": "Running",
            "startedAt": ago(hours=3),
            "lastHeartbeatTime": rfc3339(now - DISCONNECTED_FOR),
            "processes": [
                {"name": "BOWTIE2_ALIGN", "succeeded": 9, "running": 3, "pending": 4},
                {"name": "MACS2_CALLPEAK", "pending": 16},
            ],
        },
        STALLED.run_name: {
            "phase": "Running",
            "startedAt": ago(hours=1),
            "lastHeartbeatTime": rfc3339(now),
            "processes": [
                {"name": "BISMARK_ALIGN", "succeeded": 16},
                {"name": "BISMARK_DEDUPLICATE", "succeeded": 16},
                {"name": "BISMARK_REPORT", "succeeded": 15, "failed": 1, "retried": 1},
            ],
        },
        INDEXED.run_name: {
            "phase": "Succeeded",
            "startedAt": ago(hours=2),
            "completedAt": ago(minutes=5),
            "lastHeartbeatTime": ago(minutes=5),
            "peakConcurrency": 24,
            "cost": 18.42,
            "processes": [
                {"name": "HaplotypeCaller", "succeeded": 24, "cached": 3, "retried": 1},
                {"name": "GenotypeGVCFs", "succeeded": 1},
            ],
        },
        DELETED.run_name: {
            "phase": "Succeeded",
            "startedAt": ago(days=2, hours=3),
            "completedAt": ago(days=2),
            "lastHeartbeatTime": ago(days=2),
            "peakConcurrency": 32,
            "cost": 41.07,
            "processes": [
                {"name": "TRIMGALORE", "succeeded": 12},
                {"name": "BWA_MEM", "succeeded": 12},
                {"name": "MACS2_CALLPEAK", "succeeded": 12},
            ],
        },
        FAILED.run_name: {
            "phase": "Failed",
            "startedAt": ago(hours=3),
            "completedAt": ago(hours=2, minutes=30),
            "lastHeartbeatTime": ago(hours=2, minutes=30),
            "cost": 6.15,
            "errorMessage": "Process `BWA_MEM (sample_07)` terminated with exit status (137)",
            "processes": [{"name": "FASTP", "succeeded": 12}, {"name": "BWA_MEM", "succeeded": 11, "failed": 1}],
        },
    }


def resumed_start(seeded: datetime) -> str:
    """When sad_einstein's second execution started (after the first one failed)."""
    return rfc3339(seeded - timedelta(minutes=45))


def resumed_report(started_at: str, now: datetime) -> Status:
    """sad_einstein run again with -resume: a new execution, as `tracker report phase
    Running` reports it, but started a while ago (startedAt moves forward)."""
    return {
        **phase_report(Phase.RUNNING, rfc3339(now)),
        "startedAt": started_at,
        "processes": [
            {"name": "FASTP", "cached": 12},
            {"name": "BWA_MEM", "cached": 11, "running": 1},
            {"name": "GATK4_MARKDUPLICATES", "pending": 12},
        ],
    }


def failed_again_report(now: datetime) -> Status:
    error = "Process `GATK4_MARKDUPLICATES (sample_03)` terminated with exit status (1)"
    return {
        **phase_report(Phase.FAILED, rfc3339(now), error),
        "cost": 8.9,
        "processes": [
            {"name": "FASTP", "cached": 12},
            {"name": "BWA_MEM", "cached": 11, "succeeded": 1},
            {"name": "GATK4_MARKDUPLICATES", "succeeded": 6, "failed": 1, "aborted": 5},
        ],
    }


def published_objects(run: DemoRun) -> list[tuple[str, int]]:
    """The objects a run published under its outputDir (keys and sizes)."""
    prefix = run.output_dir.removeprefix(f"s3://{BUCKET}/")
    samples = [(f"{prefix}alignments/sample_{i:02d}.bam", (300 + 37 * i) * 1024) for i in range(1, 9)]
    reports = [
        (f"{prefix}multiqc/multiqc_report.html", 1_200_000),
        (f"{prefix}pipeline_info/execution_report.html", 2_400_000),
        (f"{prefix}pipeline_info/execution_trace.txt", 48_000),
    ]
    return samples + reports


def try_commands() -> list[tuple[str, str]]:
    """Commands worth trying against the demo, with what each shows."""
    ns = f"-n {NAMESPACE}"
    return [
        (f"kubectl get wfr {ns}", "state, owner, last heartbeat, outputs size"),
        (f"tracker {ns} get runs -o wide", "the same through the tracker CLI"),
        (f"tracker {ns} describe run {DISCONNECTED.run_name}", "conditions, processes, events"),
        (f"tracker outputs info {INDEXED.output_dir}multiqc/", "which run published it"),
        (f"tracker {ns} outputs ls {INDEXED.run_name} alignments/", "the output index"),
        (f"tracker {ns} outputs delete {FAILED.run_name} --wait", "a delete job, run by a worker pod"),
        (f"tracker {ns} report heartbeat {DISCONNECTED.run_name}", "reconnects it (for 5 minutes)"),
    ]


# -- driving the demo ------------------------------------------------------------------
@dataclass
class Step:
    """A scripted report or request, taken once `ready()` holds."""

    ready: Callable[[], bool]
    act: Callable[[], str]  # returns what happened, for the log


class Demo:
    """Seeds the demo and keeps it going; every call goes through the real APIs."""

    def __init__(self, plane: ControlPlane, s3: S3Server, api_url: str, *, say: Say = print) -> None:
        self.plane, self.s3, self.say = plane, s3, say
        self.ctx = CliContext(kubeconfig=str(plane.kubeconfig), namespace=NAMESPACE)
        self.index = ApiClient(api_url, timeout=10)
        self.ticks = 0
        self.seeded = datetime.now(UTC)
        self.next_beat = 0.0
        self.steps: dict[str, deque[Step]] = {}
        self.settled_after: float | None = None

    def seed(self) -> None:
        """The namespace, the bucket, the outputs, the runs (no Secret: workers run in tracker-system)."""
        try:
            client.CoreV1Api(self.ctx.api).create_namespace(
                client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE))
            )
        except ApiException as error:
            if error.status != 409:
                raise
        s3 = self.s3.client()
        s3.create_bucket(Bucket=BUCKET)
        for run in (INDEXED, DELETED, FAILED):
            put_objects(s3, BUCKET, published_objects(run))
        custom = client.CustomObjectsApi(self.ctx.api)
        self.seeded = datetime.now(UTC)
        for run in RUNS_IN_ORDER:
            custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, RUNS, run.manifest())
        for run_name, status in first_reports(self.seeded).items():
            patch_run_status(self.ctx, run_name, status)
        self.next_beat = time.monotonic() + HEARTBEAT_SECONDS
        self.steps = {
            DELETED.run_name: deque([Step(lambda: self._indexed(DELETED), self._delete_outputs)]),
            FAILED.run_name: deque(
                [Step(lambda: self._indexed(FAILED), self._resume), Step(self._resume_indexed, self._fail_again)]
            ),
        }

    def tick(self) -> bool:
        """Heartbeats when due, then every scripted step whose time has come; whether
        every run has settled in its state."""
        if time.monotonic() >= self.next_beat:
            self.next_beat = time.monotonic() + HEARTBEAT_SECONDS
            self._try("heartbeat", self._beat)
        for run_name, queue in self.steps.items():
            if queue and _holds(queue[0].ready):
                done = self._try(run_name, queue[0].act)
                if done is not None:
                    queue.popleft()
                    self.say(f"  {run_name}: {done}")
        if self.settled_after is None and _holds(self.settled):
            self.settled_after = (datetime.now(UTC) - self.seeded).total_seconds()
            self.say(f"Every demo run is in its state ({self.settled_after:.0f} s after seeding).")
        return self.settled_after is not None

    def settled(self) -> bool:
        """Every step taken and every run in its state, as the read API shows it."""
        if any(self.steps.values()):
            return False
        shown = {r.run_name: r for r in self.index.runs(namespace=NAMESPACE, limit=100).items}
        return all(
            run.run_name in shown
            and shown[run.run_name].state == run.state
            and _outputs_state(shown[run.run_name].outputs) == run.outputs
            for run in RUNS_IN_ORDER
        )

    # -- steps -------------------------------------------------------------------------
    def _beat(self) -> None:
        self.ticks += 1
        now = datetime.now(UTC)
        patch_run_status(self.ctx, LIVE.run_name, live_report(self.ticks, now))
        patch_run_status(self.ctx, STALLED.run_name, {"lastHeartbeatTime": rfc3339(now)})

    def _indexed(self, run: DemoRun) -> bool:
        return self.index.run(run.run_name, namespace=NAMESPACE).outputs.count > 0

    def _delete_outputs(self) -> str:
        body = find_run(self.ctx.api, ref=DELETED.run_name, namespace=NAMESPACE)
        job = Lifecycle(self.ctx).submit(ref=DELETED.run_name, run=body, operation=Operation.DELETE_OUTPUTS)
        return f"outputs indexed; deleting them (delete_outputs job {job['metadata']['uid']})"

    def _resume(self) -> str:
        patch_run_status(self.ctx, FAILED.run_name, resumed_report(resumed_start(self.seeded), datetime.now(UTC)))
        return "resumed with -resume (a second execution)"

    def _resume_indexed(self) -> bool:
        """The index holds the resumed execution (so the first one is in its history)."""
        started = self.index.run(FAILED.run_name, namespace=NAMESPACE).started_at
        return started is not None and rfc3339(started) == resumed_start(self.seeded)

    def _fail_again(self) -> str:
        patch_run_status(self.ctx, FAILED.run_name, failed_again_report(datetime.now(UTC)))
        return "failed again"

    def _try(self, what: str, call: Callable[[], T]) -> T | None:
        """`call()`; None, after saying so, when it failed on a transient error."""
        try:
            return call()
        except TRANSIENT as error:
            self.say(f"  demo ({what}): {error}; trying again")
            return None


def _holds(condition: Callable[[], bool]) -> bool:
    """A condition on the live system; an error (say, a run not indexed yet) is not yet."""
    try:
        return condition()
    except TRANSIENT:
        return False


def _outputs_state(outputs: Any) -> str | None:
    if outputs.deleted:
        return "deleted"
    return "indexed" if outputs.count > 0 else None
