"""`tracker outputs ...` against the real stack: the control plane with the admission
policy, the operator, worker Jobs run by the node agent, the S3 server, and the read
API (`tracker-api`) on the operator's index. The CLI runs as a subprocess with a
minted user's kubeconfig; stdout, stderr and exit codes are asserted exactly."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fixtures.cli import BIN_DIR, Cli
from fixtures.workflowruns import create_run, now, report, status_of

from localcluster.controlplane import ControlPlane
from localcluster.processes import ManagedProcess, free_port, wait_until
from localcluster.s3server import S3Server, put_objects, seed_objects
from localcluster.tracker import Operator

pytestmark = pytest.mark.cluster
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def grant_tracker_user(plane: ControlPlane, namespace: str, group: str) -> None:
    """What a scientist gets in a namespace: request lifecycle jobs, read runs and their Events."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "tracker-user", "namespace": namespace},
        "rules": [
            {
                "apiGroups": ["tracker.dev"],
                "resources": ["outputlifecyclejobs"],
                "verbs": ["create", "get", "list", "watch"],
            },
            {"apiGroups": ["tracker.dev"], "resources": ["workflowruns"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": [""], "resources": ["events"], "verbs": ["list"]},
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "tracker-users", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "tracker-user"},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": group}],
    }
    plane.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [role, binding]}))


@pytest.fixture
def users(tracker_operator: Operator, tracked_namespace: str) -> dict[str, Cli]:
    """alice (owns the runs), mallory (a scientist too), eve (no rights in the namespace)."""
    plane = tracker_operator.plane
    grant_tracker_user(plane, tracked_namespace, "scientists")
    return {
        "alice": Cli(plane.mint_user("alice", ["scientists"]), tracked_namespace),
        "mallory": Cli(plane.mint_user("mallory", ["scientists"]), tracked_namespace),
        "eve": Cli(plane.mint_user("eve", ["outsiders"]), tracked_namespace),
    }


def published(
    operator: Operator, namespace: str, s3: S3Server, bucket: str, name: str, sizes: dict[str, int]
) -> dict[str, Any]:
    """A succeeded run of alice's whose outputs are indexed; its status."""
    put_objects(s3.client(), bucket, [(f"runs/{name}/{key}", size) for key, size in sizes.items()])
    create_run(operator.plane, namespace, name, outputDir=f"s3://{bucket}/runs/{name}/")
    report(operator.plane, namespace, name, {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})
    try:
        return wait_until(
            lambda: (s := status_of(operator.plane, namespace, name)).get("outputs", {}).get("indexedAt") and s,
            timeout=120,
            what=f"{name} indexed",
        )
    except TimeoutError:
        print(operator.log_tail())
        raise


def olj(plane: ControlPlane, namespace: str, job_id: str) -> dict[str, Any]:
    """The lifecycle job resource whose uid is `job_id`."""
    items = json.loads(plane.kubectl("get", "olj", "-n", namespace, "-o", "json").stdout)["items"]
    return next(j for j in items if j["metadata"]["uid"] == job_id)


def wait_finished(plane: ControlPlane, namespace: str, job_id: str) -> dict[str, Any]:
    return wait_until(
        lambda: (j := olj(plane, namespace, job_id)).get("status", {}).get("phase") in ("Succeeded", "Failed") and j,
        timeout=180,
        what=f"job {job_id} to finish",
    )


def enqueued(result: subprocess.CompletedProcess[str], verb: str, run: str) -> str:
    """The job id from the two documented lines (which must be all of stdout's start)."""
    match = re.match(
        rf"Enqueued {verb} job ({UUID}) for '{run}' \(enqueued\)\.\n"
        rf"Check progress: tracker outputs job-status \1\n",
        result.stdout,
    )
    assert match, (result.returncode, result.stdout, result.stderr)
    return match.group(1)


def keys_under(s3: S3Server, bucket: str, prefix: str) -> list[str]:
    listed = s3.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", ())]


@pytest.fixture(scope="module")
def read_api(
    tracker_operator: Operator, operator_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`tracker-api` serving the operator's index, without authentication."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DATABASE_URL=operator_database, TRACKER_API__AUTH_MODE="none")
    process = ManagedProcess(
        name="tracker-api",
        argv=[str(BIN_DIR / "tracker-api"), "--port", str(port)],
        log_path=tmp_path_factory.mktemp("api") / "api.log",
        env=env,
    ).start()
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        process.check_running()
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(ready, timeout=60, what="the read API to be ready")
    yield url
    process.stop()


# -- delete ------------------------------------------------------------------------------
def test_delete_enqueues_then_job_status_follows_it_and_a_second_delete_is_a_no_op(
    tracker_operator: Operator,
    tracked_namespace: str,
    users: dict[str, Cli],
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    plane, ns, alice = tracker_operator.plane, tracked_namespace, users["alice"]
    run = published(tracker_operator, ns, s3_server, s3_bucket, "cli-del-1", {f"f{i}.txt": 100 + i for i in range(5)})

    result = alice("outputs", "delete", "cli-del-1")
    job_id = enqueued(result, "delete", "cli-del-1")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.count("\n") == 2

    live = alice("outputs", "job-status", job_id)
    assert live.returncode == 0, live.stderr
    first, *rest = live.stdout.splitlines()
    assert re.fullmatch(rf"delete_outputs  (enqueued|running|succeeded)  \(id={job_id}\)", first), first
    assert rest[0] == f"run_id: {run['id']}"
    assert [line.split(":")[0] for line in rest[1:]] == ["started", "completed", "objects deleted", "bytes deleted"]

    status = wait_finished(plane, ns, job_id)["status"]
    done = alice("outputs", "job-status", job_id)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        f"delete_outputs  succeeded  (id={job_id})\n"
        f"run_id: {run['id']}\n"
        f"started: {status['startedAt']}\n"
        f"completed: {status['completedAt']}\n"
        "objects deleted: 5\n"
        "bytes deleted: 510\n"
    )
    assert keys_under(s3_server, s3_bucket, "runs/cli-del-1/") == []

    again = alice("outputs", "delete", "cli-del-1")
    assert (again.returncode, again.stdout, again.stderr) == (
        0,
        "The outputs of 'cli-del-1' are already deleted: nothing to do.\n",
        "",
    )


def test_delete_wait_succeeds_by_run_id(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Cli], s3_server: S3Server, s3_bucket: str
) -> None:
    ns, alice = tracked_namespace, users["alice"]
    run = published(tracker_operator, ns, s3_server, s3_bucket, "cli-del-2", {"a.bam": 10, "b/c.vcf": 20})
    result = alice("outputs", "delete", run["id"], "--wait", "--timeout", "3m")
    job_id = enqueued(result, "delete", "cli-del-2")
    assert (result.returncode, result.stderr) == (0, "")  # stderr is no terminal: no progress line
    assert result.stdout.splitlines()[2:] == [
        f"Job {job_id} succeeded: deleted 2 objects (30 B) under s3://{s3_bucket}/runs/cli-del-2/"
    ]
    assert keys_under(s3_server, s3_bucket, "runs/cli-del-2/") == []


def test_delete_wait_shows_progress_on_a_terminal(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Cli], s3_server: S3Server, s3_bucket: str
) -> None:
    import pty

    ns, alice = tracked_namespace, users["alice"]
    published(tracker_operator, ns, s3_server, s3_bucket, "cli-tty", {f"f{i}": 10 for i in range(3)})
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    try:
        result = subprocess.run(
            [
                str(BIN_DIR / "tracker"),
                "--kubeconfig",
                str(alice.kubeconfig),
                "-n",
                ns,
                "outputs",
                "delete",
                "cli-tty",
                "--wait",
            ],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=240,
            env=env,
        )
        os.close(terminal)
        shown = b""
        while chunk := _read(controller):
            shown += chunk
    finally:
        os.close(controller)
    job_id = enqueued(result, "delete", "cli-tty")
    assert result.returncode == 0
    text = shown.decode()
    assert re.search(r"\r\x1b\[Kdelete_outputs (enqueued|running)[^\r]*\[\d+s\]", text), repr(text)
    assert text.endswith("\r\x1b[K"), repr(text)  # the line is cleared before the outcome is printed
    assert result.stdout.splitlines()[2].startswith(f"Job {job_id} succeeded: deleted 3 objects")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the terminal's other end is closed and drained
        return b""


def test_delete_wait_times_out_with_124(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Cli], s3_server: S3Server, s3_bucket: str
) -> None:
    """No job is admitted, given a worker pod, and done within 50 ms of its request (a
    quiet machine does it all within a second)."""
    ns, alice = tracked_namespace, users["alice"]
    published(tracker_operator, ns, s3_server, s3_bucket, "cli-slow", {f"f{i}": 10 for i in range(20)})
    result = alice("outputs", "delete", "cli-slow", "--wait", "--timeout", "0.05s")
    job_id = enqueued(result, "delete", "cli-slow")
    assert result.returncode == 124
    assert result.stdout.count("\n") == 2
    # enqueued, or already admitted and running on a busy machine: either way not done
    assert re.fullmatch(
        rf"tracker: timed out after 0.05s waiting for job {job_id} \((enqueued|running)\); "
        rf"check progress: tracker outputs job-status {job_id}\n",
        result.stderr,
    ), result.stderr
    # The job goes on regardless, and a later --wait sees it through.
    assert wait_finished(tracker_operator.plane, ns, job_id)["status"]["phase"] == "Succeeded"


def test_who_may_not_and_what_does_not_exist(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Cli], s3_server: S3Server, s3_bucket: str
) -> None:
    ns = tracked_namespace
    published(tracker_operator, ns, s3_server, s3_bucket, "cli-mine", {"x.txt": 5})

    refused = users["mallory"]("outputs", "delete", "cli-mine", "--wait")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert re.fullmatch(
        rf"tracker: job {UUID} failed \(Forbidden\): 'mallory' may not delete outputs for run 'cli-mine': "
        r"only its owner 'alice', a cluster admin of 'hpc-a' \(nobody configured\), "
        r"or a global admin \(nobody configured\) may\n",
        refused.stderr,
    ), refused.stderr
    assert keys_under(s3_server, s3_bucket, "runs/cli-mine/") == ["runs/cli-mine/x.txt"]

    outsider = users["eve"]("outputs", "delete", "cli-mine")
    assert (outsider.returncode, outsider.stdout) == (1, "")
    assert outsider.stderr.startswith("tracker: cannot create the delete_outputs job for run 'cli-mine': forbidden: ")
    assert outsider.stderr.count("\n") == 1

    unknown = users["alice"]("outputs", "delete", "no-such-run", "--wait")
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (
        1,
        "",
        f"tracker: run 'no-such-run' not found in namespace '{ns}'\n",
    )
    missing_job = users["alice"]("outputs", "job-status", "00000000-0000-4000-8000-000000000000")
    assert (missing_job.returncode, missing_job.stdout) == (1, "")
    assert missing_job.stderr == (
        f"tracker: job '00000000-0000-4000-8000-000000000000' not found in namespace "
        f"'{ns}' (set --api-url or TRACKER_API_URL to look up jobs whose resource is gone)\n"
    )


# -- update-db and move ---------------------------------------------------------------------
def test_update_db_moved_then_deleted(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Cli], s3_server: S3Server, s3_bucket: str
) -> None:
    plane, ns, alice = tracker_operator.plane, tracked_namespace, users["alice"]
    run = published(tracker_operator, ns, s3_server, s3_bucket, "cli-db-1", {f"s{i}.bam": 7 for i in range(4)})
    jobs_before = len(json.loads(plane.kubectl("get", "olj", "-n", ns, "-o", "json").stdout)["items"])

    no_slash = alice("outputs", "update-db", "moved", "cli-db-1", "s3://archive-bucket/2026/cli-db-1")
    assert (no_slash.returncode, no_slash.stdout, no_slash.stderr) == (
        2,
        "",
        "tracker: destination must be an s3://bucket/prefix/ URL ending in '/': "
        "got 's3://archive-bucket/2026/cli-db-1'\n",
    )
    not_s3 = alice("outputs", "update-db", "moved", "cli-db-1", "/archive/cli-db-1/")
    assert (not_s3.returncode, not_s3.stderr) == (
        2,
        "tracker: '/archive/cli-db-1/' is not an S3 URL: it must start with s3://\n",
    )
    assert len(json.loads(plane.kubectl("get", "olj", "-n", ns, "-o", "json").stdout)["items"]) == jobs_before

    moved = alice("outputs", "update-db", "moved", "cli-db-1", "s3://archive-bucket/2026/cli-db-1/")
    assert (moved.returncode, moved.stderr) == (0, "")
    assert moved.stdout == (
        "Updated 'cli-db-1': 4 output rows rewritten.\n"
        f"  source: s3://{s3_bucket}/runs/cli-db-1/\n"
        "  dest:   s3://archive-bucket/2026/cli-db-1/\n"
    )
    spec = json.loads(plane.kubectl("get", "wfr", "cli-db-1", "-n", ns, "-o", "json").stdout)["spec"]
    assert spec["outputDir"] == "s3://archive-bucket/2026/cli-db-1/"

    deleted = alice("outputs", "update-db", "deleted", run["id"])
    assert (deleted.returncode, deleted.stdout, deleted.stderr) == (
        0,
        "Updated 'cli-db-1': 4 output rows marked deleted.\n",
        "",
    )
    again = alice("outputs", "update-db", "deleted", "cli-db-1")
    assert (again.returncode, again.stdout, again.stderr) == (
        0,
        "The outputs of 'cli-db-1' are already marked deleted: nothing to do.\n",
        "",
    )

    refused = alice("outputs", "update-db", "moved", "cli-db-1", "s3://archive-bucket/elsewhere/")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert re.fullmatch(
        rf"tracker: job {UUID} failed \(OutputsDeleted\): the outputs of run 'cli-db-1' are "
        r"marked deleted: there is nothing to rewrite output paths\n",
        refused.stderr,
    ), refused.stderr
    assert keys_under(s3_server, s3_bucket, "runs/cli-db-1/") != []  # index only: S3 untouched


def test_move_wait_then_job_status(
    tracker_operator: Operator, tracked_namespace: str, users: dict[str, Cli], s3_server: S3Server, s3_bucket: str
) -> None:
    plane, ns, alice = tracker_operator.plane, tracked_namespace, users["alice"]
    run = published(tracker_operator, ns, s3_server, s3_bucket, "cli-mv-1", {"a.txt": 11, "d/b.txt": 22})
    destination = f"s3://{s3_bucket}/archive/cli-mv-1/"
    result = alice("outputs", "move", "cli-mv-1", destination, "--wait")
    job_id = enqueued(result, "move", "cli-mv-1")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[2] == (
        f"Job {job_id} succeeded: moved 2 objects (33 B) from "
        f"s3://{s3_bucket}/runs/cli-mv-1/ to {destination}; "
        "2 index rows rewritten"
    )
    assert sorted(keys_under(s3_server, s3_bucket, "archive/cli-mv-1/")) == [
        "archive/cli-mv-1/a.txt",
        "archive/cli-mv-1/d/b.txt",
    ]
    status = olj(plane, ns, job_id)["status"]
    shown = alice("outputs", "job-status", job_id)
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout == (
        f"move_outputs  succeeded  (id={job_id})\n"
        f"run_id: {run['id']}\n"
        f"started: {status['startedAt']}\n"
        f"completed: {status['completedAt']}\n"
        "objects copied: 2\n"
        "bytes copied: 33\n"
        "objects deleted: 2\n"
        "bytes deleted: 33\n"
        "rows rewritten: 2\n"
        f"destination: {destination}\n"
    )

    reindexed = alice("outputs", "reindex", "cli-mv-1", "--wait")
    index_id = enqueued(reindexed, "index", "cli-mv-1")
    assert reindexed.returncode == 0, reindexed.stderr
    assert reindexed.stdout.splitlines()[2] == f"Job {index_id} succeeded: indexed 2 objects under {destination}"


# -- the read API: info, ls, search, and job-status for jobs whose resource is gone ---------
def test_index_queries_through_the_read_api(
    tracker_operator: Operator,
    tracked_namespace: str,
    users: dict[str, Cli],
    s3_server: S3Server,
    s3_bucket: str,
    read_api: str,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    alice = Cli(users["alice"].kubeconfig, ns, api_url=read_api)
    run = published(
        tracker_operator,
        ns,
        s3_server,
        s3_bucket,
        "cli-api-1",
        {"Sample One.BAM": 2048, "qc/report.html": 100, "qc/multiqc.json": 50},
    )

    info = alice("outputs", "info", f"s3://{s3_bucket}/runs/CLI-API-1/QC/")  # any case
    assert (info.returncode, info.stdout, info.stderr) == (0, f"cli-api-1  id={run['id']}\n", "")
    capitals = alice("outputs", "info", f"S3://{s3_bucket.upper()}/RUNS/CLI-API-1/SAMPLE ONE.BAM")  # bucket too
    assert (capitals.returncode, capitals.stdout, capitals.stderr) == (0, f"cli-api-1  id={run['id']}\n", "")
    by_file = alice("outputs", "info", f"s3://{s3_bucket}/runs/cli-api-1/sample one.bam")
    assert (by_file.returncode, by_file.stdout) == (0, f"cli-api-1  id={run['id']}\n")
    nothing = alice("outputs", "info", f"s3://{s3_bucket}/runs/nothing-here/")
    assert (nothing.returncode, nothing.stdout, nothing.stderr) == (
        1,
        "",
        f"tracker: no run has outputs matching 's3://{s3_bucket}/runs/nothing-here/'\n",
    )
    malformed = alice("outputs", "info", "bucket/runs/x")
    assert (malformed.returncode, malformed.stderr) == (
        2,
        "tracker: 'bucket/runs/x' is not an S3 URL: it must start with s3://\n",
    )

    listing = alice("outputs", "ls", "cli-api-1")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["NAME", "OBJECTS", "SIZE", "LAST", "MODIFIED", "STORAGE", "CLASS", "STATE"]
    assert lines[1].split() == ["qc/", "2", "150", "B"]
    assert lines[2].split()[:5] == ["Sample", "One.BAM", "1", "2.0", "KiB"]
    sub = alice("outputs", "ls", run["id"], "qc")
    assert [line.split()[0] for line in sub.stdout.splitlines()] == ["NAME", "multiqc.json", "report.html"]

    found = alice("outputs", "search", "cli-api-1", "QC", "json")
    assert (found.returncode, found.stderr) == (0, "")
    assert found.stdout == (
        f"RUN         SIZE   STATE   URL\ncli-api-1   50 B           s3://{s3_bucket}/runs/cli-api-1/qc/multiqc.json\n"
    )

    # job-status of a job whose resource was deleted: from the index's history.
    deleted = alice("outputs", "delete", "cli-api-1", "--wait")
    job_id = enqueued(deleted, "delete", "cli-api-1")
    status = olj(plane, ns, job_id)["status"]
    live = alice("outputs", "job-status", job_id)
    plane.kubectl("delete", "olj", olj(plane, ns, job_id)["metadata"]["name"], "-n", ns)

    def from_index() -> subprocess.CompletedProcess[str] | None:
        result = alice("outputs", "job-status", job_id)
        return result if result.returncode == 0 and result.stdout == live.stdout else None

    historic = wait_until(from_index, timeout=30, what="job-status from the index to match the live one")
    assert historic.stdout == (
        f"delete_outputs  succeeded  (id={job_id})\n"
        f"run_id: {run['id']}\n"
        f"started: {status['startedAt']}\n"
        f"completed: {status['completedAt']}\n"
        "objects deleted: 3\n"
        "bytes deleted: 2198\n"
    )
    unknown = alice("outputs", "job-status", "00000000-0000-4000-8000-000000000000")
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (
        1,
        "",
        "tracker: job '00000000-0000-4000-8000-000000000000' not found\n",
    )
    listing = alice("outputs", "ls", "cli-api-1")
    assert all(line.endswith("Deleted") for line in listing.stdout.splitlines()[1:])


def test_a_delete_while_one_is_active_prints_its_id_and_a_different_request_is_refused(
    tracker_operator: Operator,
    tracked_namespace: str,
    users: dict[str, Cli],
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    """A real delete of 60,000 objects stays active while the CLI asks twice more."""
    plane, ns, alice = tracker_operator.plane, tracked_namespace, users["alice"]
    total = 60_000
    seed_objects(s3_server, s3_bucket, prefix="runs/cli-busy/", count=total, size=1)
    create_run(plane, ns, "cli-busy", outputDir=f"s3://{s3_bucket}/runs/cli-busy/")
    wait_until(lambda: status_of(plane, ns, "cli-busy").get("id"), timeout=30, what="cli-busy's id")

    active = enqueued(alice("outputs", "delete", "cli-busy"), "delete", "cli-busy")
    again = alice("outputs", "delete", "cli-busy")
    assert (again.returncode, again.stderr) == (0, "")
    assert re.fullmatch(
        rf"A delete job for 'cli-busy' is already (enqueued|running): {active}\n"
        rf"Check progress: tracker outputs job-status {active}\n",
        again.stdout,
    ), again.stdout
    dry = alice("outputs", "delete", "cli-busy", "--dry-run", "--wait")
    assert (dry.returncode, dry.stdout) == (1, "")
    assert re.fullmatch(
        rf"tracker: run 'cli-busy' is busy: delete_outputs job {active} is (enqueued|running); "
        rf"try again when it has finished \(tracker outputs job-status {active}\)\n",
        dry.stderr,
    ), dry.stderr

    done = wait_finished(plane, ns, active)["status"]
    assert (done["phase"], done["objectsDeleted"]) == ("Succeeded", total)
    jobs = json.loads(plane.kubectl("get", "olj", "-n", ns, "-o", "json").stdout)["items"]
    refused = [j["status"] for j in jobs if j["spec"].get("dryRun")]
    assert [(s["phase"], s["reason"], s.get("objectsToDelete", 0), s["activeJob"]["jobId"]) for s in refused] == [
        ("Failed", "Busy", 0, active)
    ]  # its own outcome, never the delete's
