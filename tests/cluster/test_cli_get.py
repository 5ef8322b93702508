"""`tracker get runs|jobs` and `tracker describe run` against the real control plane:
the tables must be what kubectl prints from the CRDs' printer columns, and the other
formats kubectl's too."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading

import pytest
import yaml
from fixtures.cli import BIN_DIR, Cli
from fixtures.workflowruns import create_run, now, report
from test_cli_outputs import grant_tracker_user, published

from localcluster.controlplane import ControlPlane
from localcluster.processes import wait_until
from localcluster.s3server import S3Server
from localcluster.tracker import Operator

pytestmark = pytest.mark.cluster


@pytest.fixture
def alice(tracker_operator: Operator, tracked_namespace: str) -> Cli:
    grant_tracker_user(tracker_operator.plane, tracked_namespace, "scientists")
    return Cli(tracker_operator.plane.mint_user("alice", ["scientists"]), tracked_namespace)


def same_as_kubectl(plane: ControlPlane, alice: Cli, tracker_args: list[str], kubectl_args: list[str]) -> str:
    """Both outputs, once they agree (an age may tick between the two calls)."""

    def agree() -> tuple[str] | None:
        ours = alice(*tracker_args)
        theirs = plane.kubectl(*kubectl_args, kubeconfig=alice.kubeconfig)
        assert ours.returncode == 0, ours.stderr
        return (ours.stdout,) if ours.stdout == theirs.stdout and ours.stderr == theirs.stderr else None

    try:
        return wait_until(agree, timeout=30, interval=0.2, what=f"tracker {tracker_args} to print as kubectl")[0]
    except TimeoutError:
        ours, theirs = alice(*tracker_args), plane.kubectl(*kubectl_args, kubeconfig=alice.kubeconfig)
        print(repr(ours.stdout), repr(theirs.stdout), repr(ours.stderr), repr(theirs.stderr), sep="\n")
        raise


def test_get_prints_what_kubectl_prints(
    tracker_operator: Operator, tracked_namespace: str, alice: Cli, s3_server: S3Server, s3_bucket: str
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    run = published(tracker_operator, ns, s3_server, s3_bucket, "get-run-1", {"a.txt": 2048})
    plane.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {  # a run name that could not be a resource name
                "apiVersion": "tracker.dev/v1alpha1",
                "kind": "WorkflowRun",
                "metadata": {"name": "get-run-2", "namespace": ns},
                "spec": {"runName": "sad_einstein", "owner": "alice", "cluster": "hpc-a", "engine": "wdl"},
            }
        ),
    )
    plane.kubectl("label", "wfr", "get-run-1", "get-run-2", "-n", ns, f"suite={ns}")
    report(plane, ns, "get-run-2", {"phase": "Running", "lastHeartbeatTime": now()})
    wait_until(
        lambda: (
            json.loads(plane.kubectl("get", "wfr", "get-run-2", "-n", ns, "-o", "json").stdout)
            .get("status", {})
            .get("state")
            == "Running"
        ),
        timeout=30,
        what="get-run-2 to be Running",
    )

    for ours, theirs in [
        (["get", "runs"], ["get", "wfr", "-n", ns]),
        (["get", "wfr", "-o", "wide"], ["get", "wfr", "-n", ns, "-o", "wide"]),
        (["get", "jobs"], ["get", "olj", "-n", ns]),
        (["get", "olj", "-o", "wide"], ["get", "olj", "-n", ns, "-o", "wide"]),
        (["get", "runs", "-o", "name"], ["get", "wfr", "-n", ns, "-o", "name"]),
        (["get", "runs", "get-run-1"], ["get", "wfr", "get-run-1", "-n", ns]),
        (["get", "runs", "-l", "suite=none"], ["get", "wfr", "-n", ns, "-l", "suite=none"]),
    ]:
        same_as_kubectl(plane, alice, ours, theirs)
    admin = Cli(plane.kubeconfig, ns)  # -A needs cluster-wide list rights
    same_as_kubectl(plane, admin, ["get", "runs", "-A", "-l", f"suite={ns}"], ["get", "wfr", "-A", "-l", f"suite={ns}"])
    same_as_kubectl(
        plane,
        admin,
        ["get", "runs", "-A", "-l", f"suite={ns}", "-o", "wide"],
        ["get", "wfr", "-A", "-l", f"suite={ns}", "-o", "wide"],
    )

    table = alice("get", "runs").stdout.splitlines()
    assert table[0].split() == ["NAME", "RUN", "STATE", "OWNER", "CLUSTER", "LAST", "HEARTBEAT", "OUTPUTS", "AGE"]
    assert table[1].split()[:5] == ["get-run-1", "get-run-1", "Succeeded", "alice", "hpc-a"]

    by_id = alice("get", "runs", run["id"], "-o", "json")
    assert by_id.returncode == 0
    ours_json = json.loads(by_id.stdout)
    theirs_json = json.loads(plane.kubectl("get", "wfr", "get-run-1", "-n", ns, "-o", "json").stdout)
    assert (
        ours_json == theirs_json
        or ours_json["metadata"]["resourceVersion"] != theirs_json["metadata"]["resourceVersion"]
    )
    assert ours_json["metadata"]["name"] == "get-run-1"
    assert "managedFields" not in ours_json["metadata"]
    by_run_name = alice("get", "runs", "sad_einstein", "-o", "name")
    assert by_run_name.stdout == "workflowrun.tracker.dev/get-run-2\n"

    listed = yaml.safe_load(alice("get", "jobs", "-o", "yaml").stdout)
    assert listed["kind"] == "List"
    assert [j["spec"]["operation"] for j in listed["items"]] == ["index_outputs"]
    job_id = listed["items"][0]["status"]["jobId"]
    assert alice("get", "jobs", job_id, "-o", "name").stdout == (
        f"outputlifecyclejob.tracker.dev/{listed['items'][0]['metadata']['name']}\n"
    )

    words = f"tracker --kubeconfig {alice.kubeconfig} -n {ns} outputs delete "
    completion = subprocess.run(
        [str(BIN_DIR / "tracker")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "_TRACKER_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": "7"},
    )
    assert completion.stdout.split() == ["plain,get-run-1", "plain,sad_einstein"]  # run names, for the shell

    missing = alice("get", "runs", "nope")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        1,
        "",
        f"tracker: WorkflowRun 'nope' not found in namespace '{ns}'\n",
    )
    elsewhere = Cli(alice.kubeconfig, "default")("get", "jobs")
    assert (elsewhere.returncode, elsewhere.stdout) == (1, "")
    assert elsewhere.stderr.startswith("tracker: cannot get outputlifecyclejobs: forbidden: ")
    assert elsewhere.stderr.count("\n") == 1


def test_get_watch_prints_changes_until_interrupted(
    tracker_operator: Operator, tracked_namespace: str, alice: Cli
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    create_run(plane, ns, "watched-1")
    argv = [str(BIN_DIR / "tracker"), "--kubeconfig", str(alice.kubeconfig), "-n", ns, "get", "runs", "-w"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    seen: list[str] = []

    def printed(prefix: str) -> bool:
        while not lines.empty():
            seen.append(lines.get())
        return any(line.startswith(prefix) for line in seen)

    try:
        wait_until(lambda: printed("watched-1 "), timeout=30, what="the first listing")
        assert seen[0].split()[:2] == ["NAME", "RUN"]
        create_run(plane, ns, "watched-2")
        report(plane, ns, "watched-2", {"phase": "Running", "lastHeartbeatTime": now()})
        wait_until(
            lambda: printed("watched-2 ") and any("watched-2" in s and "Running" in s for s in seen),
            timeout=30,
            what="the new run's rows",
        )
        column = seen[0].index("RUN")  # every row keeps the columns of the first listing
        assert all(line[column - 1] == " " and line[column] != " " for line in seen), seen
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert stderr == ""


def test_describe_run(
    tracker_operator: Operator, tracked_namespace: str, alice: Cli, s3_server: S3Server, s3_bucket: str
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    published(tracker_operator, ns, s3_server, s3_bucket, "desc-1", {"a.bam": 3 * 2**20, "b.txt": 1024})
    report(
        plane,
        ns,
        "desc-1",
        {
            "processes": [{"name": "ALIGN", "succeeded": 3, "failed": 1, "retried": 1}],
            "peakConcurrency": 4,
            "cost": 1.25,
        },
    )
    run = json.loads(plane.kubectl("get", "wfr", "desc-1", "-n", ns, "-o", "json").stdout)
    status, size = run["status"], 3 * 2**20 + 1024
    result = alice("describe", "run", status["id"])
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    for expected in [
        "Name:       desc-1",
        f"Namespace:  {ns}",
        "Run:        desc-1",
        f"Id:         {status['id']}",
        "Owner:      alice",
        "Cluster:    hpc-a",
        "Engine:     nextflow",
        "State:      Succeeded",
        "Workflow:",
        f"  Output Dir:  s3://{s3_bucket}/runs/desc-1/",
        "  Peak Concurrency:  4",
        "  Cost:              $1.25",
        "Processes:",
        "  Name    Succeeded   Failed   Aborted   Running   Cached   Retried   Submitted   Pending",
        "  ALIGN   3           1        0         0         0        1         0           0",
        "Outputs:",
        "  Objects:      2",
        f"  Size:         3.0 MiB ({size} bytes)",
        "  Annual Cost:  <$0.01 - <$0.01 per year (Archive Instant - Frequent Access tier)",
    ]:
        assert expected in lines, (expected, result.stdout)
    conditions = lines[lines.index("Conditions:") + 1 : lines.index("Processes:")]
    assert conditions[0].split() == ["Type", "Status", "Reason", "Age", "Message"]
    assert any(c.split()[:2] == ["OutputsIndexed", "True"] for c in conditions[2:])
    jobs = lines[lines.index("Lifecycle Jobs:") + 1 :]
    assert jobs[2].split()[1:4] == ["index_outputs", "Succeeded", "Completed"]
    assert any(line.startswith("Events:") for line in lines)

    missing = alice("describe", "run", "nope")
    assert (missing.returncode, missing.stderr) == (1, f"tracker: run 'nope' not found in namespace '{ns}'\n")
