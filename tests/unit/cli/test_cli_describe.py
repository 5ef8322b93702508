"""`tracker describe run` and `describe job` pages from resource bodies, offline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tracker.cli.describe import job_lines, run_lines

NOW = datetime(2026, 5, 13, 20, 0, 0, tzinfo=UTC)
RUN_ID = "550e8400-e29b-41d4-a716-446655440000"
JOB_ID = "7f3e0000-0000-4000-8000-000000000002"
RUN: dict[str, Any] = {
    "apiVersion": "tracker.dev/v1alpha1",
    "kind": "WorkflowRun",
    "metadata": {
        "name": "foo-run-001",
        "namespace": "lab",
        "uid": "u1",
        "creationTimestamp": "2026-05-13T18:55:00Z",
        "labels": {"team": "genomics"},
    },
    "spec": {
        "runName": "foo-run-001",
        "owner": "alice",
        "cluster": "hpc-a",
        "engine": "nextflow",
        "workflow": {"repository": "https://github.com/nf-core/rnaseq", "revision": "3.14.0", "commit": "abc123"},
        "workDir": "s3://work/foo/",
        "outputDir": "s3://bucket/runs/foo-run-001/",
    },
    "status": {
        "id": RUN_ID,
        "phase": "Succeeded",
        "state": "Succeeded",
        "startedAt": "2026-05-13T19:00:00Z",
        "completedAt": "2026-05-13T19:42:10Z",
        "lastHeartbeatTime": "2026-05-13T19:42:10Z",
        "peakConcurrency": 24,
        "cost": 3.5,
        "conditions": [
            {
                "type": "Disconnected",
                "status": "False",
                "reason": "HeartbeatReceived",
                "message": "heartbeats arrive",
                "lastTransitionTime": "2026-05-13T19:00:00Z",
            },
            {
                "type": "OutputsIndexed",
                "status": "True",
                "reason": "Indexed",
                "message": "1842 objects",
                "lastTransitionTime": "2026-05-13T19:43:00Z",
            },
        ],
        "processes": [
            {"name": "ALIGN", "succeeded": 12, "failed": 1, "retried": 1},
            {"name": "MULTIQC", "succeeded": 1},
        ],
        "outputs": {
            "count": 1842,
            "bytes": 9876543210,
            "annualCostLow": 0.4415,
            "annualCostHigh": 2.3181,
            "size": "9.2 GiB",
            "indexedAt": "2026-05-13T19:43:00Z",
        },
    },
}
JOB: dict[str, Any] = {
    "metadata": {
        "name": "foo-run-001-index-1a2b3c4d",
        "namespace": "lab",
        "uid": JOB_ID,
        "creationTimestamp": "2026-05-13T19:42:11Z",
    },
    "spec": {"run": "foo-run-001", "operation": "index_outputs", "requestedBy": "tracker-operator"},
    "status": {
        "phase": "Succeeded",
        "reason": "Completed",
        "jobId": JOB_ID,
        "runId": RUN_ID,
        "objectsIndexed": 1842,
        "message": "indexed 1842 objects",
        "startedAt": "2026-05-13T19:42:12Z",
        "completedAt": "2026-05-13T19:42:20Z",
        "kubernetesJob": "tracker-index-outputs-7f3e0000",
    },
}
EVENT = {
    "metadata": {"creationTimestamp": "2026-05-13T19:30:00Z"},
    "type": "Warning",
    "reason": "Disconnected",
    "message": "no heartbeat for 300s",
    "count": 2,
    "firstTimestamp": "2026-05-13T19:20:00Z",
    "lastTimestamp": "2026-05-13T19:30:00Z",
    "source": {"component": "tracker-operator"},
}


def test_a_run_in_full() -> None:
    assert (
        "\n".join(run_lines(RUN, [JOB], [EVENT], NOW)) + "\n"
        == """\
Name:       foo-run-001
Namespace:  lab
Run:        foo-run-001
Id:         550e8400-e29b-41d4-a716-446655440000
Owner:      alice
Cluster:    hpc-a
Engine:     nextflow
Labels:     team=genomics
State:      Succeeded
Created:    2026-05-13T18:55:00Z (65m ago)
Workflow:
  Repository:  https://github.com/nf-core/rnaseq
  Revision:    3.14.0
  Commit:      abc123
  Work Dir:    s3://work/foo/
  Output Dir:  s3://bucket/runs/foo-run-001/
Runtime:
  Phase:             Succeeded
  Started:           2026-05-13T19:00:00Z (60m ago)
  Completed:         2026-05-13T19:42:10Z (17m ago)
  Duration:          42m10s
  Last Heartbeat:    2026-05-13T19:42:10Z (17m ago)
  Peak Concurrency:  24
  Cost:              $3.50
Conditions:
  Type             Status   Reason              Age   Message
  ----             ------   ------              ---   -------
  Disconnected     False    HeartbeatReceived   60m   heartbeats arrive
  OutputsIndexed   True     Indexed             17m   1842 objects
Processes:
  Name      Succeeded   Failed   Aborted   Running   Cached   Retried   Submitted   Pending
  ----      ---------   ------   -------   -------   ------   -------   ---------   -------
  ALIGN     12          1        0         0         0        1         0           0
  MULTIQC   1           0        0         0         0        0         0           0
Outputs:
  Objects:      1842
  Size:         9.2 GiB (9876543210 bytes)
  Annual Cost:  $0.44 - $2.32 per year (Archive Instant - Frequent Access tier)
  Indexed:      2026-05-13T19:43:00Z (17m ago)
Lifecycle Jobs:
  Name                         Operation       Phase       Reason      Requested By       Age   Job Id
  ----                         ---------       -----       ------      ------------       ---   ------
  foo-run-001-index-1a2b3c4d   index_outputs   Succeeded   Completed   tracker-operator   17m   7f3e0000-0000-4000-8000-000000000002
Events:
  Type      Reason         Age                 From               Message
  ----      ------         ---                 ----               -------
  Warning   Disconnected   30m (x2 over 40m)   tracker-operator   no heartbeat for 300s
"""
    )


def test_a_new_run_shows_what_is_missing() -> None:
    fresh = {**RUN, "status": {}}
    assert run_lines(fresh, [], None, NOW)[3] == "Id:         <pending>"
    assert run_lines(fresh, [], None, NOW)[-6:] == [
        "Runtime:  <none>",
        "Conditions:  <none>",
        "Processes:  <none>",
        "Outputs:  <not indexed>",
        "Lifecycle Jobs:  <none>",
        "Events:  <not permitted to list events>",
    ]


def test_deleted_outputs_cost_nothing() -> None:
    deleted = {
        **RUN,
        "status": {
            **RUN["status"],
            "outputs": {
                "count": 1842,
                "bytes": 9876543210,
                "size": "Deleted",
                "annualCostLow": 0,
                "annualCostHigh": 0,
                "deletedAt": "2026-05-13T19:50:00Z",
                "deletedBy": "alice",
            },
        },
    }
    lines = run_lines(deleted, [], [], NOW)
    outputs = lines[lines.index("Outputs:") + 1 : lines.index("Lifecycle Jobs:  <none>")]
    assert outputs == [
        "  Objects:      1842",
        "  Size:         Deleted",
        "  Annual Cost:  $0.00 (deleted)",
        "  Deleted:      2026-05-13T19:50:00Z (10m ago) by alice",
    ]


def test_a_job_in_full() -> None:
    assert job_lines(JOB, NOW) == [
        "Name:            foo-run-001-index-1a2b3c4d",
        "Namespace:       lab",
        f"Job Id:          {JOB_ID}",
        "Run:             foo-run-001",
        f"Run Id:          {RUN_ID}",
        "Operation:       index_outputs",
        "Requested By:    tracker-operator",
        "Phase:           Succeeded",
        "Reason:          Completed",
        "Message:         indexed 1842 objects",
        "Kubernetes Job:  tracker-index-outputs-7f3e0000",
        "Created:         2026-05-13T19:42:11Z (17m ago)",
        "Started:         2026-05-13T19:42:12Z (17m ago)",
        "Completed:       2026-05-13T19:42:20Z (17m ago)",
        "Counters:",
        "  Objects indexed:  1842",
        "Conditions:  <none>",
    ]


def test_a_sharded_job_lists_its_shards_ranges_phases_and_counts() -> None:
    sharded = {
        **JOB,
        "spec": {**JOB["spec"], "operation": "delete_outputs"},
        "status": {
            **JOB["status"],
            "shardCount": 3,
            "shards": {
                "10": {"phase": "Pending", "after": "obj-9"},
                "0": {"phase": "Succeeded", "upto": "obj-3", "objectsDeleted": 4, "reason": "Completed"},
                "1": {
                    "phase": "Failed",
                    "after": "obj-3",
                    "upto": "obj-9",
                    "objectsDeleted": 2,
                    "reason": "AccessDenied",
                },
            },
        },
    }
    lines = job_lines(sharded, NOW)
    assert lines[lines.index("Shards:") + 1 :] == [
        "  Shard   Phase       After     Up To   Deleted   Copied   Reason",
        "  -----   -----       -----     -----   -------   ------   ------",
        "  0       Succeeded   <start>   obj-3   4         0        Completed",
        "  1       Failed      obj-3     obj-9   2         0        AccessDenied",
        "  10      Pending     obj-9     <end>   0         0        ",
    ]
    assert "Shards:" not in job_lines(JOB, NOW)
