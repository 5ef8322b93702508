"""The node agent against the real control plane: the Job controller runs, completes and
retries Jobs whose pods are processes of the project image on this machine."""

from __future__ import annotations

import json
import os
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.nodeagent import NodeAgentHandle

from localcluster.controlplane import ControlPlane
from localcluster.nodeagent.kube import Kube, status_of
from localcluster.processes import wait_until

pytestmark = pytest.mark.cluster

IMAGE = "workflow-tracker:dev"
POD_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def kube(control_plane: ControlPlane) -> Kube:
    """An admin JSON client."""
    return Kube.from_kubeconfig(control_plane.kubeconfig)


@pytest.fixture
def ns(namespace: str, kube: Kube, node_agent: NodeAgentHandle) -> Iterator[str]:
    """A fresh namespace whose default service account exists (pods need it)."""
    wait_until(
        lambda: kube.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default"),
        timeout=30,
        what="the default service account",
    )
    return namespace


# -- helpers ----------------------------------------------------------------------------


def container(command: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": "main", "image": IMAGE, "command": command, **extra}


def python(script: str, *args: str) -> list[str]:
    return ["python", "-c", textwrap.dedent(script), *args]


def create_pod(kube: Kube, ns: str, name: str, *containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "containers": list(containers), **spec},
    }
    return kube.create(f"/api/v1/namespaces/{ns}/pods", body)


def create_job(kube: Kube, ns: str, name: str, command: list[str], backoff_limit: int = 0) -> dict[str, Any]:
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {"spec": {"restartPolicy": "Never", "containers": [container(command)]}},
        },
    }
    return kube.create(f"/apis/batch/v1/namespaces/{ns}/jobs", body)


def get_pod(kube: Kube, ns: str, name: str) -> dict[str, Any]:
    return kube.get(f"/api/v1/namespaces/{ns}/pods/{name}")


def wait_for_phase(kube: Kube, ns: str, name: str, *phases: str, timeout: float = POD_TIMEOUT) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        pod = get_pod(kube, ns, name)
        return pod if pod["status"].get("phase") in phases else None

    return wait_until(reached, timeout=timeout, what=f"pod {ns}/{name} to be {' or '.join(phases)}")


def finished_condition(kube: Kube, ns: str, job: str) -> dict[str, Any] | None:
    conditions = kube.get(f"/apis/batch/v1/namespaces/{ns}/jobs/{job}")["status"].get("conditions") or []
    finished = [c for c in conditions if c["type"] in ("Complete", "Failed") and c["status"] == "True"]
    return finished[0] if finished else None


def job_pods(kube: Kube, ns: str, job: str) -> list[dict[str, Any]]:
    selector = f"batch.kubernetes.io/job-name={job}"
    return kube.get(f"/api/v1/namespaces/{ns}/pods", labelSelector=selector)["items"]


def main_state(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["status"]["containerStatuses"][0]["state"]


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def pod_gone(kube: Kube, ns: str, name: str) -> bool:
    try:
        get_pod(kube, ns, name)
    except Exception as error:
        if status_of(error) == 404:
            return True
        raise
    return False


# -- the node -----------------------------------------------------------------------------


def test_node_is_ready_untainted_and_renews_its_lease(kube: Kube, node_agent: NodeAgentHandle) -> None:
    node = kube.get(f"/api/v1/nodes/{node_agent.node_name}")
    assert node["status"]["allocatable"]["cpu"] == "8"
    assert node["status"]["allocatable"]["memory"] == "16Gi"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == kube.get("/version")["gitVersion"]
    assert not node["spec"].get("taints")
    lease_path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node_agent.node_name}"
    first = kube.get(lease_path)["spec"]["renewTime"]
    wait_until(
        lambda: kube.get(lease_path)["spec"]["renewTime"] > first, timeout=30, what="the node lease to be renewed"
    )


# -- Jobs -----------------------------------------------------------------------------------


def test_job_completes_and_its_log_holds_the_output(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    create_job(kube, ns, "hello", ["python", "-c", "print('hello')"])
    condition = wait_until(
        lambda: finished_condition(kube, ns, "hello"), timeout=POD_TIMEOUT, what="job hello to finish"
    )
    assert condition["type"] == "Complete", node_agent.log_tail()
    (pod,) = job_pods(kube, ns, "hello")
    assert pod["status"]["phase"] == "Succeeded"
    terminated = main_state(pod)["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    assert node_agent.container_log(ns, pod["metadata"]["name"], "main").strip() == "hello"


def test_failing_job_is_retried_until_its_backoff_limit(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    create_job(kube, ns, "fails", python("import sys; print('bad input'); sys.exit(3)"), backoff_limit=2)
    condition = wait_until(lambda: finished_condition(kube, ns, "fails"), timeout=150, what="job fails to finish")
    assert (condition["type"], condition["reason"]) == ("Failed", "BackoffLimitExceeded")
    pods = job_pods(kube, ns, "fails")
    assert len(pods) == 3
    for pod in pods:
        assert pod["status"]["phase"] == "Failed"
        terminated = main_state(pod)["terminated"]
        assert (terminated["exitCode"], terminated["reason"]) == (3, "Error")
        assert "bad input" in terminated["message"]


# -- environment ------------------------------------------------------------------------------

ENV_DUMP = """
import json, os
keys = ["PASSWORD", "LEVEL", "CFG_mode", "user", "POD_NAME", "POD_NS", "NODE", "TEAM", "GREETING"]
print(json.dumps({k: os.environ.get(k) for k in keys}))
"""


def test_env_from_secret_config_map_and_downward_api(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    kube.create(
        f"/api/v1/namespaces/{ns}/secrets",
        {"metadata": {"name": "creds"}, "stringData": {"password": "s3cr3t", "user": "ada"}},
    )
    kube.create(
        f"/api/v1/namespaces/{ns}/configmaps",
        {"metadata": {"name": "settings"}, "data": {"level": "debug", "mode": "fast"}},
    )
    env = [
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "TEAM", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['team']"}}},
        {"name": "GREETING", "value": "hi $(POD_NAME)"},
        {"name": "ABSENT", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k", "optional": True}}},
    ]
    env_from = [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}, {"secretRef": {"name": "creds"}}]
    kube.create(
        f"/api/v1/namespaces/{ns}/pods",
        {
            "metadata": {"name": "env", "labels": {"team": "genomics"}},
            "spec": {"restartPolicy": "Never", "containers": [container(python(ENV_DUMP), env=env, envFrom=env_from)]},
        },
    )
    pod = wait_for_phase(kube, ns, "env", "Succeeded", "Failed")
    output = node_agent.container_log(ns, "env", "main")
    assert pod["status"]["phase"] == "Succeeded", output
    assert json.loads(output) == {
        "PASSWORD": "s3cr3t",
        "LEVEL": "debug",
        "CFG_mode": "fast",
        "user": "ada",
        "POD_NAME": "env",
        "POD_NS": ns,
        "NODE": node_agent.node_name,
        "TEAM": "genomics",
        "GREETING": "hi env",
    }


def test_missing_secret_waits_then_runs_once_it_exists(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "late", "key": "token"}}}]
    create_pod(kube, ns, "waits", container(python("import os; print(os.environ['TOKEN'])"), env=env))

    def waiting() -> dict[str, Any] | None:
        statuses = get_pod(kube, ns, "waits")["status"].get("containerStatuses") or []
        state = statuses[0]["state"] if statuses else {}
        waiting = state.get("waiting") or {}
        return waiting if waiting.get("reason") == "CreateContainerConfigError" else None

    waited = wait_until(waiting, timeout=POD_TIMEOUT, what="CreateContainerConfigError")
    assert waited["message"] == 'secrets "late" not found'
    assert get_pod(kube, ns, "waits")["status"]["phase"] == "Pending"

    kube.create(f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "late"}, "stringData": {"token": "t0k"}})
    assert wait_for_phase(kube, ns, "waits", "Succeeded", "Failed")["status"]["phase"] == "Succeeded"
    assert node_agent.container_log(ns, "waits", "main").strip() == "t0k"


# -- what the node refuses ---------------------------------------------------------------------


def test_foreign_image_cannot_be_pulled_and_waits_as_with_a_kubelet(
    kube: Kube, ns: str, node_agent: NodeAgentHandle
) -> None:
    created = create_pod(kube, ns, "busybox", {"name": "c", "image": "busybox:1.36", "command": ["sh", "-c", "true"]})
    # Every status the agent writes, in order: a watch from the pod's creation (polling
    # could miss the short ErrImagePull stretch on a loaded machine).
    reasons: list[str] = []
    pod: dict[str, Any] = created
    query = {"fieldSelector": "metadata.name=busybox", "resourceVersion": created["metadata"]["resourceVersion"]}
    for event in kube.watch(f"/api/v1/namespaces/{ns}/pods", query, timeout=POD_TIMEOUT):
        pod = event["object"]
        statuses = pod.get("status", {}).get("containerStatuses") or []
        reason = (statuses[0]["state"].get("waiting") or {}).get("reason") if statuses else None
        if reason and (not reasons or reasons[-1] != reason):
            reasons.append(reason)
        if reason == "ImagePullBackOff":
            break
    assert reasons == ["ErrImagePull", "ImagePullBackOff"]  # ErrImagePull first, for PULL_BACK_OFF_SECONDS
    assert pod["status"]["phase"] == "Pending"
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] == (
        'Back-off pulling image "busybox:1.36": failed to pull image "busybox:1.36": '
        'the node agent runs only the project image "workflow-tracker"'
    )
    kube.delete(f"/api/v1/namespaces/{ns}/pods/busybox")
    wait_until(lambda: pod_gone(kube, ns, "busybox"), timeout=POD_TIMEOUT, what="the pod to be deleted")


def test_missing_executable_fails_the_container_with_start_error(
    kube: Kube, ns: str, node_agent: NodeAgentHandle
) -> None:
    create_pod(kube, ns, "typo", container(["pyhton", "-c", "print(1)"]))
    terminated = main_state(wait_for_phase(kube, ns, "typo", "Failed"))["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (128, "StartError")
    assert 'exec: "pyhton": No such file or directory' in terminated["message"]


# -- lifecycle ------------------------------------------------------------------------------------

SLEEPER = python("import time\nprint('sleeping', flush=True)\ntime.sleep(600)")


def test_deleting_a_running_pod_kills_its_process(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    create_pod(kube, ns, "sleeper", container(SLEEPER), terminationGracePeriodSeconds=5)
    pod = wait_for_phase(kube, ns, "sleeper", "Running")
    status = pod["status"]["containerStatuses"][0]
    assert status["ready"]
    assert status["started"]
    assert "running" in status["state"]
    pid = node_agent.container_pid(ns, "sleeper", "main")
    assert status["containerID"] == f"local://{pid}"
    assert process_alive(pid)

    kube.delete(f"/api/v1/namespaces/{ns}/pods/sleeper")
    wait_until(lambda: not process_alive(pid), timeout=15, what="the pod's process to exit")
    wait_until(lambda: pod_gone(kube, ns, "sleeper"), timeout=15, what="the pod to disappear")


def test_deleting_a_job_kills_its_pod_process(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    create_job(kube, ns, "cancelled", SLEEPER)
    wait_until(
        lambda: [p for p in job_pods(kube, ns, "cancelled") if p["status"].get("phase") == "Running"],
        timeout=POD_TIMEOUT,
        what="the job's pod to run",
    )
    (pod,) = job_pods(kube, ns, "cancelled")
    pid = node_agent.container_pid(ns, pod["metadata"]["name"], "main")

    kube.delete(f"/apis/batch/v1/namespaces/{ns}/jobs/cancelled", {"propagationPolicy": "Background"})
    wait_until(lambda: not process_alive(pid), timeout=45, what="the job's process to exit")
    wait_until(lambda: not job_pods(kube, ns, "cancelled"), timeout=30, what="the job's pod to disappear")


def test_active_deadline_kills_the_pod(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    create_pod(kube, ns, "late", container(SLEEPER), activeDeadlineSeconds=3, terminationGracePeriodSeconds=2)
    wait_for_phase(kube, ns, "late", "Running")
    pid = node_agent.container_pid(ns, "late", "main")
    pod = wait_for_phase(kube, ns, "late", "Failed", timeout=30)
    assert pod["status"]["reason"] == "DeadlineExceeded"
    assert main_state(pod)["terminated"]["exitCode"] == 143  # SIGTERM
    assert not process_alive(pid)


RESTARTS_ONCE = """
import pathlib, sys
marker = pathlib.Path("attempted")
if not marker.exists():
    marker.write_text("1")
    print("first attempt fails")
    sys.exit(1)
print("second attempt works")
"""


def test_on_failure_restarts_the_container_in_place(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    create_pod(kube, ns, "retry", container(python(RESTARTS_ONCE)), restartPolicy="OnFailure")
    pod = wait_for_phase(kube, ns, "retry", "Succeeded", "Failed")
    status = pod["status"]["containerStatuses"][0]
    assert pod["status"]["phase"] == "Succeeded"
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 1
    log = node_agent.container_log(ns, "retry", "main")
    assert "first attempt fails" in log
    assert "second attempt works" in log


def test_init_containers_run_first_in_order(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    append = "import sys; open('order', 'a').write(sys.argv[1] + '\\n')"
    init = [{"name": f"init-{i}", "image": IMAGE, "command": ["python", "-c", append, f"init-{i}"]} for i in (1, 2)]
    create_pod(kube, ns, "ordered", container(python("print(open('order').read().split())")), initContainers=init)
    pod = wait_for_phase(kube, ns, "ordered", "Succeeded", "Failed")
    assert pod["status"]["phase"] == "Succeeded"
    assert [s["state"]["terminated"]["reason"] for s in pod["status"]["initContainerStatuses"]] == [
        "Completed",
        "Completed",
    ]
    assert node_agent.container_log(ns, "ordered", "main").strip() == "['init-1', 'init-2']"


RENDEZVOUS = """
import pathlib, sys, time
me, other = sys.argv[1], sys.argv[2]
pathlib.Path(me).touch()
deadline = time.monotonic() + 30
while not pathlib.Path(other).exists():
    if time.monotonic() > deadline:
        sys.exit("never met " + other)
    time.sleep(0.05)
print(me, "met", other)
"""


def test_containers_run_in_parallel(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    pair = [{"name": a, "image": IMAGE, "command": python(RENDEZVOUS, a, b)} for a, b in (("a", "b"), ("b", "a"))]
    create_pod(kube, ns, "pair", *pair)
    pod = wait_for_phase(kube, ns, "pair", "Succeeded", "Failed")
    assert pod["status"]["phase"] == "Succeeded"
    assert node_agent.container_log(ns, "pair", "a").strip() == "a met b"
    assert node_agent.container_log(ns, "pair", "b").strip() == "b met a"


# -- credentials -------------------------------------------------------------------------------------

LIST_CONFIG_MAPS = """
import sys
from kubernetes import client, config
config.load_kube_config()
try:
    items = client.CoreV1Api().list_namespaced_config_map(sys.argv[1]).items
except client.exceptions.ApiException as error:
    print("denied", error.status)
    sys.exit(4)
print("listed", len(items))
"""


def test_service_account_token_carries_exactly_its_rbac_rights(
    kube: Kube, ns: str, node_agent: NodeAgentHandle
) -> None:
    kube.create(f"/api/v1/namespaces/{ns}/serviceaccounts", {"metadata": {"name": "reader"}})
    command = python(LIST_CONFIG_MAPS, ns)

    create_pod(kube, ns, "denied", container(command), serviceAccountName="reader")
    denied = wait_for_phase(kube, ns, "denied", "Succeeded", "Failed")
    assert denied["status"]["phase"] == "Failed"
    assert "denied 403" in node_agent.container_log(ns, "denied", "main")

    kube.create(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
        {
            "metadata": {"name": "read-configmaps"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}],
        },
    )
    kube.create(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
        {
            "metadata": {"name": "reader-reads"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-configmaps"},
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": ns}],
        },
    )
    create_pod(kube, ns, "allowed", container(command), serviceAccountName="reader")
    allowed = wait_for_phase(kube, ns, "allowed", "Succeeded", "Failed")
    log = node_agent.container_log(ns, "allowed", "main")
    assert allowed["status"]["phase"] == "Succeeded", log
    assert "listed" in log


def test_no_credentials_when_automount_is_off(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    script = "import os; print(os.environ.get('KUBECONFIG'), os.environ.get('KUBERNETES_SERVICE_HOST'))"
    create_pod(kube, ns, "anonymous", container(python(script)), automountServiceAccountToken=False)
    assert wait_for_phase(kube, ns, "anonymous", "Succeeded")
    assert node_agent.container_log(ns, "anonymous", "main").strip() == "None None"
    assert not (node_agent.pod_dir(ns, "anonymous") / "kubeconfig").exists()


# -- pod files -----------------------------------------------------------------------------------------

LEAVES_FILES = """
import os, pathlib
pathlib.Path("scratch.txt").write_text("scratch")
print(os.environ["KUBECONFIG"])
"""


def test_a_finished_pods_token_and_work_dir_go_and_its_logs_go_with_the_pod(
    kube: Kube, ns: str, node_agent: NodeAgentHandle
) -> None:
    create_pod(kube, ns, "tidy", container(python(LEAVES_FILES)))
    assert wait_for_phase(kube, ns, "tidy", "Succeeded", "Failed")["status"]["phase"] == "Succeeded"
    directory = node_agent.pod_dir(ns, "tidy")
    kubeconfig = Path(node_agent.container_log(ns, "tidy", "main").strip())
    assert kubeconfig.parent == directory
    wait_until(
        lambda: not kubeconfig.exists() and not (directory / "work").exists(),
        timeout=15,
        what="the finished pod's token and working directory to be removed",
    )
    assert node_agent.container_log(ns, "tidy", "main").strip() == str(kubeconfig)  # logs stay

    kube.delete(f"/api/v1/namespaces/{ns}/pods/tidy")
    wait_until(lambda: pod_gone(kube, ns, "tidy"), timeout=15, what="the pod to disappear")
    wait_until(lambda: not directory.exists(), timeout=15, what="the deleted pod's directory to be removed")


def test_deleting_a_running_pod_removes_its_directory(kube: Kube, ns: str, node_agent: NodeAgentHandle) -> None:
    create_pod(kube, ns, "busy", container(SLEEPER), terminationGracePeriodSeconds=2)
    wait_for_phase(kube, ns, "busy", "Running")
    directory = node_agent.pod_dir(ns, "busy")
    kube.delete(f"/api/v1/namespaces/{ns}/pods/busy")
    wait_until(lambda: pod_gone(kube, ns, "busy"), timeout=15, what="the pod to disappear")
    wait_until(lambda: not directory.exists(), timeout=15, what="the deleted pod's directory to be removed")


def test_agent_restart_removes_directories_of_pods_it_no_longer_has(ns: str, node_agent: NodeAgentHandle) -> None:
    """A pod deleted while the agent was down leaves a directory no event will name."""
    stale = node_agent.state_dir / "pods" / f"{ns}_long-gone_{uuid.uuid4()}"
    (stale / "work").mkdir(parents=True)
    (stale / "main.log").write_text("old output\n")
    node_agent.restart()
    wait_until(lambda: not stale.exists(), timeout=15, what="the stale pod directory to be removed")


# -- the agent stopping -------------------------------------------------------------------------------


@pytest.mark.parametrize("crash", [False, True], ids=["sigterm", "sigkill"])
def test_agent_restart_kills_pods_and_reports_them_lost(
    kube: Kube, ns: str, node_agent: NodeAgentHandle, crash: bool
) -> None:
    create_pod(kube, ns, "orphan", container(SLEEPER))
    wait_for_phase(kube, ns, "orphan", "Running")
    pid = node_agent.container_pid(ns, "orphan", "main")

    node_agent.restart(crash=crash)
    wait_until(lambda: not process_alive(pid), timeout=10, what="the pod's process to be gone")
    pod = wait_for_phase(kube, ns, "orphan", "Failed", timeout=30)
    assert main_state(pod)["terminated"]["reason"] == "ContainerStatusUnknown"

    create_job(kube, ns, "after-restart", ["python", "-c", "print('still works')"])
    condition = wait_until(
        lambda: finished_condition(kube, ns, "after-restart"),
        timeout=POD_TIMEOUT,
        what="a job after the agent restarted",
    )
    assert condition["type"] == "Complete"
