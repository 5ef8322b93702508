"""Real WDL runs reported into the real system (the local control plane, the
operator, the trace receiver writing WorkflowRuns under a runner's service-account
token): a Sprocket run through `tracker watch sprocket --publish-to` and a miniwdl
run through its plugin's `PUBLISH_TO` put their output files in S3, the operator
indexes them and `tracker outputs info` finds the run; a `sprocket run` killed
mid-run turns Disconnected within its heartbeat timeout."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from enginekit import MINIWDL, TRACKER, WDL, sprocket_run, sprocket_start
from fixtures.workflowruns import condition, runner_token, wait_for_state

from localcluster.processes import wait_until
from localcluster.s3server import S3Server
from localcluster.tracker import Operator

pytestmark = pytest.mark.engines


def watcher_env(s3: S3Server, token: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "AWS_", "TOWER_"))} | {
        "TOWER_ACCESS_TOKEN": token,
        "TRACKER_S3__ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_DEFAULT_REGION": s3.region,
        "PYTHONUNBUFFERED": "1",
    }


def only_run(operator: Operator, namespace: str) -> dict[str, Any]:
    items = json.loads(operator.plane.kubectl("get", "wfr", "-n", namespace, "-o", "json").stdout)["items"]
    assert len(items) == 1, [i["metadata"]["name"] for i in items]
    run: dict[str, Any] = items[0]
    return run


def indexed_and_found(
    operator: Operator, ns: str, name: str, url: str, api: str, token: str, env: dict[str, str]
) -> None:
    """The run Succeeded, its one published output indexed, and `outputs info` finds it."""
    wait_for_state(operator.plane, ns, name, "Succeeded", 60, operator)

    def indexed() -> bool:
        status = only_run(operator, ns).get("status") or {}
        return (status.get("outputs") or {}).get("count") == 1

    wait_until(indexed, timeout=120, what="the published output to be indexed", interval=1)
    info = subprocess.run(
        [str(TRACKER), "--api-url", api, "--token", token, "outputs", "info", url],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert info.returncode == 0, info.stderr
    run_name = only_run(operator, ns)["spec"]["runName"]
    assert info.stdout.startswith(f"{run_name}  id="), info.stdout


def test_published_outputs_are_indexed_and_found(
    tower_receiver: str,
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    token = runner_token(plane, ns, "alice", may_create=True)
    out = tmp_path / "out"
    done = sprocket_run("two_tasks.wdl", tmp_path, out, "two_tasks.who=tracker")
    assert done.returncode == 0, done.stderr
    env = watcher_env(s3_server, token)
    watched = subprocess.run(
        [str(TRACKER), "watch", "sprocket", str(out), "--url", f"{tower_receiver}/tower", "--once",
         "--publish-to", f"s3://{s3_bucket}/wdl/"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert watched.returncode == 0, watched.stderr
    run = only_run(tracker_operator, ns)
    name, spec = run["metadata"]["name"], run["spec"]
    assert (spec["engine"], spec["owner"]) == ("wdl", f"system:serviceaccount:{ns}:alice")
    prefix = spec["outputDir"]
    assert prefix.startswith(f"s3://{s3_bucket}/wdl/")
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert [k.rsplit("/", 1)[-1] for k in keys] == ["greeting.txt"]
    indexed_and_found(tracker_operator, ns, name, f"s3://{s3_bucket}/{keys[0]}", tower_receiver, token, env)


def test_a_miniwdl_runs_published_outputs_are_indexed_and_found(
    tower_receiver: str,
    tracker_operator: Operator,
    tracked_namespace: str,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    ns = tracked_namespace
    token = runner_token(tracker_operator.plane, ns, "alice", may_create=True)
    env = watcher_env(s3_server, token) | {
        "MINIWDL__SCHEDULER__CONTAINER_BACKEND": "bare",
        "MINIWDL__TRACKER__URL": f"{tower_receiver}/tower",
        "MINIWDL__TRACKER__PUBLISH_TO": f"s3://{s3_bucket}/miniwdl/",
    }
    done = subprocess.run(
        [str(MINIWDL), "run", str(WDL / "two_tasks.wdl"), "who=tracker", "--dir", f"{tmp_path}/"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    run = only_run(tracker_operator, ns)
    assert (run["spec"]["engine"], run["spec"]["outputDir"]) == (
        "wdl",
        f"s3://{s3_bucket}/miniwdl/{run['spec']['runName']}/",
    )
    [key] = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert key.endswith("/greeting.txt")
    indexed_and_found(
        tracker_operator, ns, run["metadata"]["name"], f"s3://{s3_bucket}/{key}", tower_receiver, token, env
    )


def test_a_killed_sprocket_run_turns_disconnected(
    tower_receiver: str, tracker_operator: Operator, tracked_namespace: str, s3_server: S3Server, tmp_path: Path
) -> None:
    plane, ns = tracker_operator.plane, tracked_namespace
    token = runner_token(plane, ns, "alice", may_create=True)
    out = tmp_path / "out"
    engine = sprocket_start("long.wdl", tmp_path, out)
    watcher = subprocess.Popen(
        [str(TRACKER), "watch", "sprocket", str(out), "--url", f"{tower_receiver}/tower", "--interval", "0.5"],
        env=watcher_env(s3_server, token), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: (out / "sprocket.db").exists(), timeout=60, what="Sprocket's database")
        wait_until(
            lambda: plane.kubectl("get", "wfr", "-n", ns, "-o", "name").stdout.strip() or None,
            timeout=60,
            what="the run to be reported",
        )
        name = only_run(tracker_operator, ns)["metadata"]["name"]
        wait_for_state(plane, ns, name, "Running", 60, tracker_operator)
        # Sprocket heartbeats every 12 s here (orphan timeout 1 minute): 30 s of silence is a dead runner.
        plane.kubectl("patch", "wfr", name, "-n", ns, "--type=merge", "-p", '{"spec": {"heartbeatTimeoutSeconds": 30}}')
        engine.send_signal(signal.SIGKILL)
        engine.wait(30)
        status = wait_for_state(plane, ns, name, "Disconnected", 90, tracker_operator)
        assert condition(status, "Disconnected")["reason"] == "HeartbeatMissing"  # type: ignore[index]
        assert watcher.poll() is None, "the watcher goes on"
    finally:
        if engine.poll() is None:
            engine.kill()
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(30)
