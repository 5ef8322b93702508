"""Run tracking on the real control plane: heartbeats, Disconnected, Stalled, indexing."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fixtures.workflowruns import condition, create_run, events_for, now, report, status_of, wait_for_state

from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import SYSTEM_NAMESPACE, Operator
from tracker.domain.cost import annual_storage_cost, human_size

pytestmark = pytest.mark.cluster


def test_missing_heartbeats_disconnect_the_run_and_the_next_heartbeat_reconnects_it(
    tracker_operator: Operator,
    tracked_namespace: str,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    create_run(plane, ns, "hb-run", heartbeatTimeoutSeconds=4)
    report(plane, ns, "hb-run", {"phase": "Running", "lastHeartbeatTime": now()})
    status = wait_for_state(plane, ns, "hb-run", "Running", 20, tracker_operator)
    assert status["id"]
    last_beat = datetime.fromisoformat(status["lastHeartbeatTime"].replace("Z", "+00:00"))

    status = wait_for_state(plane, ns, "hb-run", "Disconnected", 30, tracker_operator)
    detected = datetime.now(UTC)
    disconnected = condition(status, "Disconnected")
    assert disconnected
    assert disconnected["status"] == "True"
    assert disconnected["reason"] == "HeartbeatMissing"
    # Heartbeat times have whole seconds: the threshold passes within [4, 5) s of the beat.
    assert (detected - last_beat).total_seconds() < 4 + 1 + 5, "not flagged within seconds of the threshold"
    wait_until(
        lambda: any(e["reason"] == "Disconnected" and e["type"] == "Warning" for e in events_for(plane, ns, "hb-run")),
        timeout=15,
        what="a Disconnected Event",
    )
    row = plane.kubectl("get", "wfr", "hb-run", "-n", ns, "--no-headers").stdout
    assert "Disconnected" in row

    report(plane, ns, "hb-run", {"lastHeartbeatTime": now()})
    status = wait_for_state(plane, ns, "hb-run", "Running", 15, tracker_operator)
    recovered = condition(status, "Disconnected")
    assert recovered
    assert recovered["status"] == "False"
    assert recovered["reason"] == "HeartbeatReceived"
    wait_until(
        lambda: any(e["reason"] == "DisconnectedCleared" for e in events_for(plane, ns, "hb-run")),
        timeout=15,
        what="a DisconnectedCleared Event",
    )


def test_all_tasks_terminal_without_completion_is_stalled(tracker_operator: Operator, tracked_namespace: str) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    create_run(plane, ns, "stall-run", heartbeatTimeoutSeconds=600, stalledAfterSeconds=3)
    report(
        plane,
        ns,
        "stall-run",
        {
            "phase": "Running",
            "lastHeartbeatTime": now(),
            "processes": [{"name": "ALIGN", "running": 1, "succeeded": 2}],
        },
    )
    status = wait_for_state(plane, ns, "stall-run", "Running", 20, tracker_operator)
    assert "tasksTerminalSince" not in status

    report(
        plane,
        ns,
        "stall-run",
        {"lastHeartbeatTime": now(), "processes": [{"name": "ALIGN", "running": 0, "succeeded": 3}]},
    )
    status = wait_for_state(plane, ns, "stall-run", "Stalled", 30, tracker_operator)
    stalled = condition(status, "Stalled")
    assert stalled
    assert stalled["reason"] == "AllTasksTerminal"
    since = datetime.fromisoformat(status["tasksTerminalSince"].replace("Z", "+00:00"))
    assert (datetime.fromisoformat(stalled["lastTransitionTime"].replace("Z", "+00:00")) - since).total_seconds() >= 3
    wait_until(
        lambda: any(e["reason"] == "Stalled" for e in events_for(plane, ns, "stall-run")),
        timeout=15,
        what="a Stalled Event",
    )

    report(plane, ns, "stall-run", {"phase": "Succeeded", "completedAt": now()})
    status = wait_for_state(plane, ns, "stall-run", "Succeeded", 20, tracker_operator)
    assert condition(status, "Stalled")["status"] == "False"  # type: ignore[index]


def test_succeeded_run_gets_its_outputs_indexed(
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    client = s3_server.client()
    sizes = {f"runs/run-1/sample {i}/reads%{i}.bam": 1000 + i for i in range(1500)}
    sizes["runs/run-1/"] = 0  # a "folder" object
    put_objects(client, s3_bucket, sizes.items())
    put_objects(client, s3_bucket, [("runs/run-10/other.bam", 5000), ("runs/run-1.txt", 7)])
    create_run(plane, ns, "run-1", outputDir=f"s3://{s3_bucket}/runs/run-1/")
    report(plane, ns, "run-1", {"phase": "Running", "lastHeartbeatTime": now()})
    report(plane, ns, "run-1", {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})

    def indexed() -> dict[str, Any] | None:
        status = status_of(plane, ns, "run-1")
        return status if (status.get("outputs") or {}).get("indexedAt") else None

    try:
        status = wait_until(indexed, timeout=120, what="the outputs of run-1 to be indexed")
    except TimeoutError:
        print(tracker_operator.log_tail())
        print(plane.kubectl("get", "olj,jobs,pods", "-n", ns, "-o", "wide").stdout)
        raise
    expected_bytes = sum(sizes.values())
    cost = annual_storage_cost(expected_bytes)
    assert status["outputs"]["count"] == len(sizes)
    assert status["outputs"]["bytes"] == expected_bytes
    assert status["outputs"]["annualCostLow"] == pytest.approx(cost.annual_low, abs=1e-4)
    assert status["outputs"]["annualCostHigh"] == pytest.approx(cost.annual_high, abs=1e-4)
    assert status["outputs"]["size"] == human_size(expected_bytes)
    assert condition(status, "OutputsIndexed")["status"] == "True"  # type: ignore[index]

    jobs = json.loads(plane.kubectl("get", "olj", "-n", ns, "-o", "json").stdout)["items"]
    assert [j["spec"]["operation"] for j in jobs] == ["index_outputs"]
    job_status = jobs[0]["status"]
    assert job_status["phase"] == "Succeeded"
    assert job_status["objectsIndexed"] == len(sizes)
    assert job_status["runId"] == status["id"]
    assert job_status["kubernetesJob"].startswith("tracker-index-outputs-")
    assert job_status["kubernetesJobNamespace"] == SYSTEM_NAMESPACE
    worker = json.loads(
        plane.kubectl("get", "job", job_status["kubernetesJob"], "-n", SYSTEM_NAMESPACE, "-o", "json").stdout
    )
    assert worker["metadata"]["labels"]["tracker.dev/lifecycle-job-uid"] == jobs[0]["metadata"]["uid"]


def index_session(database_url: str):
    from tracker.store.engine import make_engine, session_factory

    return session_factory(make_engine(database_url))


def test_index_mirrors_runs_processes_outputs_and_resume_history(
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    operator_database: str,
) -> None:
    from tracker.store import lookup, runs

    plane, ns = tracker_operator.plane, tracked_namespace
    put_objects(s3_server.client(), s3_bucket, [(f"p/mirror-1/out{i}.txt", 10) for i in range(3)])
    put_objects(s3_server.client(), s3_bucket, [("p/mirror-10/x.txt", 10)])
    create_run(
        plane,
        ns,
        "mirror-1",
        outputDir=f"s3://{s3_bucket}/p/mirror-1/",
        sessionId="sess-1",
        workflow={"repository": "https://github.com/nf-core/rnaseq", "revision": "3.14", "commit": "abc123"},
    )
    report(
        plane,
        ns,
        "mirror-1",
        {
            "phase": "Running",
            "startedAt": "2026-05-13T19:00:00Z",
            "lastHeartbeatTime": now(),
            "processes": [{"name": "FASTQC", "running": 2, "succeeded": 1}],
        },
    )
    report(
        plane,
        ns,
        "mirror-1",
        {
            "phase": "Failed",
            "completedAt": "2026-05-13T19:30:00Z",
            "errorMessage": "exit 137",
            "processes": [{"name": "FASTQC", "failed": 1, "succeeded": 2}],
        },
    )
    sessions = index_session(operator_database)

    def mirrored(phase: str) -> object:
        with sessions() as session:
            record = runs.get_run(session, ref="mirror-1", namespace=ns)
            return record if record and record.phase == phase and record.state == phase else None

    record = wait_until(lambda: mirrored("Failed"), timeout=30, what="the failed run in the index")
    assert record.repository == "https://github.com/nf-core/rnaseq"
    assert record.commit == "abc123"
    assert record.error_message == "exit 137"
    assert record.session_id == "sess-1"
    assert [(p.name, p.failed, p.succeeded) for p in record.processes] == [("FASTQC", 1, 2)]

    # Resumed with the same name and session: a new execution; the index keeps the old one.
    report(
        plane,
        ns,
        "mirror-1",
        {
            "phase": "Running",
            "startedAt": "2026-05-13T20:00:00Z",
            "completedAt": None,
            "errorMessage": None,
            "lastHeartbeatTime": now(),
        },
    )
    report(plane, ns, "mirror-1", {"phase": "Succeeded", "completedAt": "2026-05-13T20:30:00Z"})
    record = wait_until(lambda: mirrored("Succeeded"), timeout=30, what="the resumed run in the index")
    with sessions() as session:
        history = runs.run_executions(session, run_id=record.id)
    assert [(h.phase, h.started_at.isoformat(), h.error_message) for h in history] == [
        ("Failed", "2026-05-13T19:00:00+00:00", "exit 137")
    ]
    assert record.started_at.isoformat() == "2026-05-13T20:00:00+00:00"
    assert record.error_message is None

    wait_until(
        lambda: (status_of(plane, ns, "mirror-1").get("outputs") or {}).get("indexedAt"),
        timeout=120,
        what="mirror-1 indexed",
    )
    with sessions() as session:
        found = lookup.lookup_runs_by_url(session, text=f"S3://{s3_bucket.upper()}/P/MIRROR-1/OUT1")
        assert [r.run_name for r in found] == ["mirror-1"]
        _matches, total = lookup.search_outputs(session, words=["mirror-1", "out"], run_id=record.id)
        assert total == 3


def test_runner_reports_through_the_cli_with_runner_rights_only(
    tracker_operator: Operator,
    tracked_namespace: str,
    tmp_path: Any,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    kubeconfig = plane.mint_user("runner-bot", groups=["runners"])
    plane.kubectl("create", "rolebinding", "runners", "--clusterrole=tracker-runner", "--group=runners", "-n", ns)
    create_run(plane, ns, "cli-run", heartbeatTimeoutSeconds=300)

    def tracker(*args: str) -> subprocess.CompletedProcess[str]:
        from localcluster.tracker import BIN_DIR

        return subprocess.run(
            [str(BIN_DIR / "tracker"), "--kubeconfig", str(kubeconfig), "-n", ns, *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert tracker("report", "phase", "cli-run", "Running").stdout == "run 'cli-run' is Running\n"
    result = tracker("report", "progress", "cli-run", "--process", "ALIGN", "--running", "3", "--succeeded", "1")
    assert result.returncode == 0, result.stderr
    result = tracker("report", "heartbeat", "cli-run")
    assert (result.returncode, result.stdout) == (0, "heartbeat recorded for 'cli-run'\n")
    status = wait_for_state(plane, ns, "cli-run", "Running", 20, tracker_operator)
    assert status["processes"] == [{"name": "ALIGN", "running": 3, "succeeded": 1}]
    assert status["startedAt"]

    missing = tracker("report", "heartbeat", "no-such-run")
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == f"tracker: run 'no-such-run' not found in namespace '{ns}'\n"
    # The runner role cannot touch lifecycle jobs or other namespaces.
    denied = plane.kubectl("get", "olj", "-n", ns, kubeconfig=kubeconfig, check=False)
    assert denied.returncode == 1
    assert "forbidden" in denied.stderr.lower()
    elsewhere = tracker("-n", "default", "report", "heartbeat", "cli-run")
    assert elsewhere.returncode == 1
    assert "forbidden" in elsewhere.stderr
    assert "Traceback" not in elsewhere.stderr


def test_operator_restart_finishes_pending_work(
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    put_objects(s3_server.client(), s3_bucket, [(f"r/restart-1/o{i}", 100) for i in range(20)])
    create_run(plane, ns, "restart-hb", heartbeatTimeoutSeconds=5)
    report(plane, ns, "restart-hb", {"phase": "Running", "lastHeartbeatTime": now()})
    wait_for_state(plane, ns, "restart-hb", "Running", 20, tracker_operator)

    tracker_operator.kill()
    # While the operator is down: a run finishes and another one's heartbeat lapses.
    create_run(plane, ns, "restart-1", outputDir=f"s3://{s3_bucket}/r/restart-1/")
    report(plane, ns, "restart-1", {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})
    lapse = time.monotonic() + 6
    wait_until(lambda: time.monotonic() > lapse, timeout=10, what="the heartbeat timeout to pass")
    assert status_of(plane, ns, "restart-hb")["state"] == "Running"  # nobody is watching

    tracker_operator.start()
    # The killed replica's peering record blocks the new one for its lifetime (20 s).
    wait_for_state(plane, ns, "restart-hb", "Disconnected", 60, tracker_operator)
    status = wait_until(
        lambda: (s := status_of(plane, ns, "restart-1")).get("outputs", {}).get("indexedAt") and s,
        timeout=120,
        what="restart-1 indexed after the restart",
    )
    assert status["outputs"]["count"] == 20
    assert status["state"] == "Succeeded"
    jobs = json.loads(plane.kubectl("get", "olj", "-n", ns, "-o", "json").stdout)["items"]
    assert len(jobs) == 1  # indexing was requested once, not once per start
