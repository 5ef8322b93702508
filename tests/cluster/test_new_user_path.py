"""A new user's path on `scripts/run`, typed as they would type it: a namespace of
their own with a service account bound to the runner and user roles, a WorkflowRun
reported with `tracker report`, indexed by the operator, found by `outputs info`, a dry
run, a move, a delete `--wait` and its `job-status`; and no Secret ever copied into
their namespace (worker Jobs run in the tracker's own)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from fixtures.localsystem import LocalRun, wait_for_banner
from fixtures.nextflow_trace import authorization, replay

from localcluster.processes import wait_until
from tracker.domain.cost import human_size

pytestmark = pytest.mark.cluster

NAMESPACE = "lab"
USER = f"system:serviceaccount:{NAMESPACE}:alice"
BUCKET = "demo-outputs"  # the demo's bucket on the local S3 server
INDEX_TIMEOUT = 180.0
OBJECTS = {"results/counts.tsv": b"gene\tcount\n" * 40, "results/a b.txt": b"x" * 700, "multiqc/report.html": b"<p>"}


def sh(env: dict[str, str], *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=300)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{done.args}: exit {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


def workflow_run(name: str, output_dir: str) -> str:
    return f"""apiVersion: tracker.dev/v1alpha1
kind: WorkflowRun
metadata:
  name: {name}
  namespace: {NAMESPACE}
spec:
  runName: {name}
  owner: {USER}
  engine: nextflow
  outputDir: {output_dir}
"""


def keys(s3: Any, prefix: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return {item["Key"].removeprefix(prefix) for page in pages for item in page.get("Contents", [])}


def test_a_new_user_tracks_a_run_and_manages_its_outputs_in_a_namespace_of_their_own(
    local_run: LocalRun, tmp_path: Path
) -> None:
    wait_for_banner(local_run)
    admin = local_run.env()  # eval "$(localcluster env)"

    # The platform team's part: a namespace, a service account, the two roles bound there.
    ok(sh(admin, "kubectl", "create", "namespace", NAMESPACE))
    ok(sh(admin, "kubectl", "-n", NAMESPACE, "create", "serviceaccount", "alice"))
    for role in ("tracker-runner", "tracker-user"):
        ok(
            sh(
                admin,
                *("kubectl", "-n", NAMESPACE, "create", "rolebinding", f"alice-{role}"),
                *(f"--clusterrole={role}", f"--serviceaccount={NAMESPACE}:alice"),
            )
        )
    token = ok(sh(admin, "kubectl", "-n", NAMESPACE, "create", "token", "alice")).strip()
    kubeconfig = tmp_path / "alice.kubeconfig"
    kubeconfig.write_text(ok(sh(admin, "kubectl", "config", "view", "--raw", "--minify")))
    alice = {**admin, "KUBECONFIG": str(kubeconfig)}
    ok(sh(alice, "kubectl", "config", "set-credentials", "alice", f"--token={token}"))
    ok(sh(alice, "kubectl", "config", "set-context", "--current", "--user=alice", f"--namespace={NAMESPACE}"))
    assert ok(sh(alice, "kubectl", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")) == USER

    # Alice's runner publishes outputs and creates two runs.
    s3 = boto3.client(
        "s3",
        endpoint_url=admin["AWS_ENDPOINT_URL"],
        aws_access_key_id=admin["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=admin["AWS_SECRET_ACCESS_KEY"],
        region_name=admin["AWS_DEFAULT_REGION"],
    )
    run, moved = "lab-run-001", "lab-run-002"
    prefix = {name: f"{NAMESPACE}/{name}/" for name in (run, moved)}
    for name in (run, moved):
        for key, body in OBJECTS.items():
            s3.put_object(Bucket=BUCKET, Key=prefix[name] + key, Body=body)
        ok(sh(alice, "kubectl", "create", "-f", "-", stdin=workflow_run(name, f"s3://{BUCKET}/{prefix[name]}")))
    for name in (run, moved):
        ok(sh(alice, "tracker", "-n", NAMESPACE, "report", "phase", name, "Running"))
        ok(
            sh(
                alice,
                *("tracker", "-n", NAMESPACE, "report", "progress", name),
                *("--process", "ALIGN", "--running", "0", "--succeeded", str(len(OBJECTS))),
            )
        )
        ok(sh(alice, "tracker", "-n", NAMESPACE, "report", "phase", name, "Succeeded"))

    def indexed(name: str) -> bool:
        count = sh(alice, "kubectl", "get", "wfr", name, "-o", "jsonpath={.status.outputs.count}").stdout
        return count == str(len(OBJECTS))

    for name in (run, moved):
        local_run.alive()
        wait_until(lambda n=name: indexed(n), timeout=INDEX_TIMEOUT, what=f"{name}'s outputs to be indexed", interval=1)
    run_id = ok(sh(alice, "kubectl", "get", "wfr", run, "-o", "jsonpath={.status.id}"))
    assert re.fullmatch(r"[0-9a-f-]{36}", run_id)
    assert ok(sh(alice, "tracker", "outputs", "info", f"s3://{BUCKET}/{prefix[run]}")) == f"{run}  id={run_id}\n"

    total = sum(len(body) for body in OBJECTS.values())
    source = f"s3://{BUCKET}/{prefix[run]}"
    dry = ok(sh(alice, "tracker", "-n", NAMESPACE, "outputs", "delete", run, "--dry-run", "--wait"))
    assert dry.splitlines()[-1].endswith(
        f" succeeded: dry run: would delete {len(OBJECTS)} objects ({human_size(total)}) "
        f"under {source}; nothing was changed"
    ), dry
    assert keys(s3, prefix[run]) == set(OBJECTS), "a dry run changes nothing"

    destination = f"s3://{BUCKET}/archive/{moved}/"
    ok(sh(alice, "tracker", "-n", NAMESPACE, "outputs", "move", moved, destination, "--wait"))
    assert keys(s3, f"archive/{moved}/") == set(OBJECTS)
    assert keys(s3, prefix[moved]) == set()
    assert ok(sh(alice, "kubectl", "get", "wfr", moved, "-o", "jsonpath={.spec.outputDir}")) == destination

    deleted = ok(sh(alice, "tracker", "-n", NAMESPACE, "outputs", "delete", run, "--wait"))
    enqueued = re.match(rf"Enqueued delete job (\S+) for '{run}' \((enqueued|running)\)\.\n", deleted)
    assert enqueued, deleted
    job_id = enqueued.group(1)
    assert f"Check progress: tracker outputs job-status {job_id}\n" in deleted
    assert deleted.splitlines()[-1].startswith(f"Job {job_id} succeeded: "), deleted
    assert keys(s3, prefix[run]) == set()
    status = ok(sh(alice, "tracker", "-n", NAMESPACE, "outputs", "job-status", job_id)).splitlines()
    assert status[:2] == [f"delete_outputs  succeeded  (id={job_id})", f"run_id: {run_id}"]
    assert status[4:6] == [f"objects deleted: {len(OBJECTS)}", f"bytes deleted: {total}"], status

    # Nothing of the tracker's lives in alice's namespace: no Secret, no worker Job.
    assert ok(sh(admin, "kubectl", "-n", NAMESPACE, "get", "secrets", "-o", "name")) == ""
    assert ok(sh(admin, "kubectl", "-n", NAMESPACE, "get", "jobs.batch", "-o", "name")) == ""

    # Her Nextflow run reports itself: her token, the printed -with-tower URL.
    tower = re.search(r"-with-tower (http://\S+/tower)", local_run.text())
    assert tower, local_run.text()
    ok(sh(admin, "kubectl", "-n", NAMESPACE, "create", "serviceaccount", "eve"))  # bound to no role
    eve = ok(sh(admin, "kubectl", "-n", NAMESPACE, "create", "token", "eve")).strip()
    with httpx.Client(base_url=tower.group(1), timeout=30) as http:
        replay(http, "succeeded", token, base="", live=True)
        create = {"sessionId": "s-1", "runName": "sneaky", "workflowId": None, "instant": 1}
        refused = http.post("/trace/create", json=create, headers={"Authorization": f"Bearer {eve}"})
        assert refused.status_code == 403, refused.text
        bad = http.post("/trace/create", json=create, headers={"Authorization": authorization("nope", "basic")})
        assert bad.status_code == 401, bad.text
    [nextflow_run] = (
        line.split()[0]
        for line in ok(sh(alice, "kubectl", "get", "wfr", "--no-headers")).splitlines()
        if line.startswith("sad-einstein-")
    )
    jsonpath = "jsonpath={.spec.owner} {.spec.engine} {.status.phase}"

    def succeeded() -> bool:
        local_run.alive()
        return sh(alice, "kubectl", "get", "wfr", nextflow_run, "-o", jsonpath).stdout == f"{USER} nextflow Succeeded"

    wait_until(succeeded, timeout=60, what=f"{nextflow_run} to be Succeeded, owned by alice", interval=0.5)
    nextflow_id = ok(sh(alice, "kubectl", "get", "wfr", nextflow_run, "-o", "jsonpath={.status.id}"))

    def tasks_listed() -> str | None:
        listed = sh(alice, "tracker", "-n", NAMESPACE, "get", "tasks", nextflow_id).stdout
        return listed if "RETRIED" in listed and "CACHED" in listed else None

    wait_until(tasks_listed, timeout=60, what="the Nextflow run's tasks to be listed", interval=0.5)
    assert "sneaky" not in ok(sh(admin, "kubectl", "get", "wfr", "-A", "--no-headers"))
