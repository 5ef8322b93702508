"""The node agent's pure rules: env resolution, $(VAR) expansion, image admission,
pod and node status builders, credentials and restart decisions. No cluster."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubernetes.client.exceptions import ApiException

from localcluster.nodeagent.credentials import token_request, wants_service_account_token
from localcluster.nodeagent.env import (
    ContainerConfigError,
    EnvSources,
    container_argv,
    container_env,
    inherited_environment,
    process_environment,
    secret_data,
)
from localcluster.nodeagent.expansion import expand
from localcluster.nodeagent.images import admission_rejection, image_repository, pull_error, unpullable_images
from localcluster.nodeagent.kube import describe_error
from localcluster.nodeagent.layout import pod_dir
from localcluster.nodeagent.nodestatus import HostInfo, heartbeat_patch, lease_object, node_object
from localcluster.nodeagent.podstatus import (
    ContainerState,
    PodReport,
    Termination,
    container_status,
    deadline_passed,
    exit_code_of,
    grace_period,
    merge_conditions,
    pod_phase,
    pod_status,
    pull_failure_report,
    rejected_report,
    restart_delay,
    should_restart,
)
from localcluster.nodeagent.recovery import restart_lost, restore_states, was_started
from localcluster.nodeagent.reporter import PodGone, StatusReporter

NOW = "2026-05-13T19:02:11Z"
LATER = "2026-05-13T19:03:47Z"


def make_pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "job-abc",
            "namespace": "lab",
            "uid": "u-1",
            "resourceVersion": "7",
            "labels": {"app": "tracker", "tier": "worker"},
            "annotations": {"note": "hi"},
        },
        "spec": {
            "nodeName": "tracker-node",
            "serviceAccountName": "runner",
            "containers": list(containers) or [{"name": "c", "image": "workflow-tracker:dev", "command": ["python"]}],
            **spec,
        },
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": NOW}],
        },
    }


def sources(
    config_maps: dict[str, dict[str, str]] | None = None, secrets: dict[str, dict[str, str]] | None = None
) -> EnvSources:
    return EnvSources(config_map=(config_maps or {}).get, secret=(secrets or {}).get)


# -- $(VAR) expansion ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)", "1"),
        ("x-$(A)-$(B)", "x-1-two"),
        ("$(MISSING)", "$(MISSING)"),
        ("$$(A)", "$(A)"),
        ("$$$(A)", "$1"),
        ("$A", "$A"),
        ("$(A", "$(A"),
        ("$()", "$()"),
        ("100$", "100$"),
        ("$", "$"),
        ("a$$b", "a$b"),
        ("$(A)$(A)", "11"),
    ],
)
def test_expansion_follows_kubernetes_rules(text: str, expected: str) -> None:
    assert expand(text, {"A": "1", "B": "two"}) == expected


@given(st.text(alphabet=st.characters(blacklist_characters="$"), max_size=40))
def test_text_without_dollar_is_unchanged(text: str) -> None:
    assert expand(text, {"A": "1"}) == text


def test_earlier_context_wins() -> None:
    assert expand("$(A)", {"A": "first"}, {"A": "second"}) == "first"


# -- environment -----------------------------------------------------------------------


def test_values_expand_against_earlier_variables_only() -> None:
    container = {
        "name": "c",
        "env": [
            {"name": "LATER_REF", "value": "$(B)"},
            {"name": "B", "value": "b"},
            {"name": "C", "value": "$(B)-c"},
            {"name": "EMPTY", "value": ""},
        ],
    }
    assert container_env(make_pod(), container, sources()) == {"LATER_REF": "$(B)", "B": "b", "C": "b-c", "EMPTY": ""}


def test_secret_and_config_map_keys() -> None:
    container = {
        "name": "c",
        "env": [
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
        ],
    }
    env = container_env(
        make_pod(), container, sources({"settings": {"level": "debug"}}, {"creds": {"password": "s3cr3t"}})
    )
    assert env == {"PASSWORD": "s3cr3t", "LEVEL": "debug"}


def test_missing_key_is_a_config_error_naming_it() -> None:
    container = {"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "nope"}}}]}
    with pytest.raises(ContainerConfigError, match="couldn't find key nope in Secret lab/creds"):
        container_env(make_pod(), container, sources(secrets={"creds": {"password": "p"}}))


def test_missing_object_is_a_config_error() -> None:
    container = {
        "name": "c",
        "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "k"}}}],
    }
    with pytest.raises(ContainerConfigError, match='configmaps "settings" not found'):
        container_env(make_pod(), container, sources())


def test_optional_references_are_skipped_when_absent() -> None:
    container = {
        "name": "c",
        "envFrom": [{"secretRef": {"name": "absent", "optional": True}}],
        "env": [
            {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k", "optional": True}}},
            {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "nokey", "optional": True}}},
            {"name": "C", "value": "c"},
        ],
    }
    assert container_env(make_pod(), container, sources({"cm": {"k": "v"}})) == {"C": "c"}


def test_env_from_applies_prefix_skips_invalid_names_and_env_overrides() -> None:
    container = {
        "name": "c",
        "envFrom": [
            {"configMapRef": {"name": "settings"}, "prefix": "APP_"},
            {"secretRef": {"name": "creds"}},
        ],
        "env": [{"name": "token", "value": "from-env"}],
    }
    env = container_env(
        make_pod(),
        container,
        sources({"settings": {"level": "info", "bad key": "x"}}, {"creds": {"token": "t", "1bad": "y"}}),
    )
    assert env == {"APP_level": "info", "token": "from-env"}


def test_env_from_missing_required_object_fails() -> None:
    container = {"name": "c", "envFrom": [{"secretRef": {"name": "creds"}}]}
    with pytest.raises(ContainerConfigError, match='secrets "creds" not found'):
        container_env(make_pod(), container, sources())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("metadata.name", "job-abc"),
        ("metadata.namespace", "lab"),
        ("metadata.uid", "u-1"),
        ("spec.nodeName", "tracker-node"),
        ("spec.serviceAccountName", "runner"),
        ("status.podIP", "127.0.0.1"),
        ("status.hostIP", "127.0.0.1"),
        ("metadata.labels['app']", "tracker"),
        ("metadata.labels['absent']", ""),
        ("metadata.annotations['note']", "hi"),
        ("metadata.labels", 'app="tracker"\ntier="worker"'),
    ],
)
def test_field_refs(path: str, expected: str) -> None:
    container = {"name": "c", "env": [{"name": "V", "valueFrom": {"fieldRef": {"fieldPath": path}}}]}
    assert container_env(make_pod(), container, sources()) == {"V": expected}


def test_unsupported_field_ref_is_reported() -> None:
    container = {"name": "c", "env": [{"name": "V", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}]}
    with pytest.raises(ContainerConfigError, match=r"spec\.bogus"):
        container_env(make_pod(), container, sources())


def test_secret_data_is_decoded() -> None:
    secret = {"data": {"k": base64.b64encode(b"v\xc3\xa9").decode()}}
    assert secret_data(secret) == {"k": "vé"}


def test_argv_is_command_then_args_expanded() -> None:
    container = {"command": ["python", "-c"], "args": ["print('$(GREETING)')", "$(UNSET)", "$$(GREETING)"]}
    assert container_argv(container, {"GREETING": "hello"}) == [
        "python",
        "-c",
        "print('hello')",
        "$(UNSET)",
        "$(GREETING)",
    ]


def test_inherited_environment_puts_the_virtualenv_first_and_drops_credentials() -> None:
    agent_env = {
        "PATH": "/usr/bin:/venv/bin",
        "HOME": "/root",
        "KUBECONFIG": "/admin",
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.0.0.1:443",
    }
    assert inherited_environment(agent_env, "/venv/bin") == {"PATH": "/venv/bin:/usr/bin", "HOME": "/root"}


def test_process_environment_layers() -> None:
    inherited = {"PATH": "/venv/bin", "A": "agent"}
    env = process_environment(inherited, make_pod(), {"A": "pod"}, "/pods/x/kubeconfig")
    assert env == {"PATH": "/venv/bin", "A": "pod", "HOSTNAME": "job-abc", "KUBECONFIG": "/pods/x/kubeconfig"}
    assert "KUBECONFIG" not in process_environment({}, make_pod(), {}, None)


# -- images and admission -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("workflow-tracker", "workflow-tracker"),
        ("workflow-tracker:dev", "workflow-tracker"),
        ("ghcr.io/x/workflow-tracker:1.0", "workflow-tracker"),
        ("localhost:5000/workflow-tracker", "workflow-tracker"),
        ("registry/workflow-tracker@sha256:abcd", "workflow-tracker"),
        ("registry:5000/team/workflow-tracker:v1@sha256:abcd", "workflow-tracker"),
        ("busybox:1.36", "busybox"),
        ("workflow-tracker-extra:1", "workflow-tracker-extra"),
    ],
)
def test_image_repository(image: str, repository: str) -> None:
    assert image_repository(image) == repository


def test_a_foreign_image_cannot_be_pulled_with_a_clear_message() -> None:
    pod = make_pod({"name": "c", "image": "busybox:1.36", "command": ["sh"]})
    assert admission_rejection(pod, "workflow-tracker") is None  # not refused: it waits, as with a kubelet
    assert unpullable_images(pod, "workflow-tracker") == {"c": "busybox:1.36"}
    assert pull_error("busybox:1.36", "workflow-tracker:dev") == (
        'failed to pull image "busybox:1.36": the node agent runs only the project image "workflow-tracker"'
    )


def test_init_container_images_are_checked_too() -> None:
    pod = make_pod(initContainers=[{"name": "setup", "image": "alpine", "command": ["true"]}])
    assert unpullable_images(pod, "workflow-tracker:dev") == {"setup": "alpine"}


def test_an_unpullable_image_waits_with_err_image_pull_then_image_pull_back_off() -> None:
    pod = make_pod({"name": "c", "image": "busybox:1.36", "command": ["sh"]})
    messages = {"c": "failed to pull"}
    first = pod_status(
        pod, pull_failure_report(pod, {"c": "busybox:1.36"}, messages, back_off=False, start_time=LATER), LATER
    )
    assert first["phase"] == "Pending"
    assert first["containerStatuses"][0]["state"] == {
        "waiting": {"reason": "ErrImagePull", "message": "failed to pull"}
    }
    later = pod_status(
        pod, pull_failure_report(pod, {"c": "busybox:1.36"}, messages, back_off=True, start_time=LATER), LATER
    )
    assert later["phase"] == "Pending"
    assert later["containerStatuses"][0]["state"] == {
        "waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "busybox:1.36": failed to pull'}
    }


def test_container_without_command_is_rejected() -> None:
    pod = make_pod({"name": "c", "image": "ghcr.io/x/workflow-tracker:1.0", "args": ["--help"]})
    rejection = admission_rejection(pod, "workflow-tracker")
    assert rejection is not None
    assert rejection.reason == "NoEntrypoint"
    assert 'container "c" has no command' in rejection.message


def test_project_image_pod_is_admitted() -> None:
    assert admission_rejection(make_pod(), "workflow-tracker") is None


# -- status -----------------------------------------------------------------------------


def test_running_container_status() -> None:
    state = ContainerState("c", "workflow-tracker:dev", running_since=NOW, pid=42, ever_started=True)
    status = container_status(state, init=False)
    assert status["state"] == {"running": {"startedAt": NOW}}
    assert status["containerID"] == "local://42"
    assert status["ready"] is True
    assert status["started"] is True
    assert status["restartCount"] == 0
    assert status["lastState"] == {}


def test_terminated_container_status_carries_exit_and_message() -> None:
    state = ContainerState(
        "c", "img", terminated=Termination(3, "Error", NOW, LATER, "boom", pid=9), done=True, ever_started=True
    )
    assert container_status(state, init=False)["state"] == {
        "terminated": {
            "exitCode": 3,
            "reason": "Error",
            "startedAt": NOW,
            "finishedAt": LATER,
            "message": "boom",
            "containerID": "local://9",
        }
    }


def test_backing_off_container_shows_waiting_and_last_state() -> None:
    state = ContainerState(
        "c",
        "img",
        restart_count=1,
        waiting_reason="CrashLoopBackOff",
        last_terminated=Termination(1, "Error", NOW, LATER),
        ever_started=True,
    )
    status = container_status(state, init=False)
    assert status["state"] == {"waiting": {"reason": "CrashLoopBackOff"}}
    assert status["lastState"]["terminated"]["exitCode"] == 1


def done(name: str, code: int) -> ContainerState:
    termination = Termination(code, "x", NOW, LATER)
    return ContainerState(name, "img", terminated=termination, done=True, ever_started=True)


def test_pod_phase() -> None:
    running = ContainerState("r", "img", running_since=NOW, ever_started=True)
    fresh = ContainerState("f", "img")
    assert pod_phase([], [fresh]) == "Pending"
    assert pod_phase([fresh], [fresh]) == "Pending"
    assert pod_phase([done("i", 0)], [running]) == "Running"
    assert pod_phase([], [running, done("b", 1)]) == "Running"
    assert pod_phase([], [done("a", 0), done("b", 0)]) == "Succeeded"
    assert pod_phase([], [done("a", 0), done("b", 2)]) == "Failed"
    assert pod_phase([done("i", 1)], [fresh]) == "Failed"


@pytest.mark.parametrize(
    ("policy", "code", "init", "restart"),
    [
        ("Never", 1, False, False),
        ("Never", 0, False, False),
        ("OnFailure", 1, False, True),
        ("OnFailure", 0, False, False),
        ("Always", 0, False, True),
        ("Always", 1, False, True),
        ("Never", 1, True, False),
        ("Always", 1, True, True),
        ("Always", 0, True, False),
    ],
)
def test_should_restart(policy: str, code: int, init: bool, restart: bool) -> None:
    assert should_restart(policy, code, init=init) is restart


def test_restart_delay_doubles_and_is_capped() -> None:
    assert [restart_delay(n) for n in range(6)] == [0.5, 1, 2, 4, 8, 10]


def test_exit_code_of_a_signalled_process() -> None:
    assert exit_code_of(-9) == 137
    assert exit_code_of(-15) == 143
    assert exit_code_of(3) == 3


def test_running_pod_status() -> None:
    pod = make_pod()
    state = ContainerState("c", "workflow-tracker:dev", running_since=NOW, pid=42, ever_started=True)
    status = pod_status(pod, PodReport(main=[state], start_time=NOW), LATER)
    assert status["phase"] == "Running"
    assert status["podIP"] == status["hostIP"] == "127.0.0.1"
    assert status["startTime"] == NOW
    conditions = {c["type"]: c for c in status["conditions"]}
    assert {k: c["status"] for k, c in conditions.items()} == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }
    assert conditions["PodScheduled"]["lastTransitionTime"] == NOW  # kept as the scheduler set it
    assert conditions["Ready"]["lastTransitionTime"] == LATER
    assert "initContainerStatuses" not in status


def test_succeeded_pod_status() -> None:
    status = pod_status(make_pod(), PodReport(main=[done("c", 0)], start_time=NOW), LATER)
    assert status["phase"] == "Succeeded"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == "PodCompleted"


def test_initializing_pod_status() -> None:
    init = ContainerState("setup", "img", running_since=NOW, ever_started=True)
    main = ContainerState("c", "img", waiting_reason="PodInitializing")
    status = pod_status(make_pod(), PodReport(init=[init], main=[main], start_time=NOW), LATER)
    assert status["phase"] == "Pending"
    initialized = next(c for c in status["conditions"] if c["type"] == "Initialized")
    assert initialized["status"] == "False"
    assert initialized["message"] == "containers with incomplete status: [setup]"
    assert status["initContainerStatuses"][0]["ready"] is False


def test_overridden_phase_reason_and_message() -> None:
    report = PodReport(main=[ContainerState("c", "img")], phase="Failed", reason="DeadlineExceeded", message="too long")
    status = pod_status(make_pod(), report, LATER)
    assert status["phase"] == "Failed"
    assert (status["reason"], status["message"]) == ("DeadlineExceeded", "too long")


def test_readiness_gates_hold_ready_back() -> None:
    pod = make_pod(readinessGates=[{"conditionType": "example.com/ok"}])
    state = ContainerState("c", "img", running_since=NOW, ever_started=True)
    conditions = {c["type"]: c for c in pod_status(pod, PodReport(main=[state]), LATER)["conditions"]}
    assert conditions["ContainersReady"]["status"] == "True"
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "ReadinessGatesNotReady"


def test_merge_conditions_keeps_transition_time_when_unchanged() -> None:
    existing = [
        {"type": "Ready", "status": "True", "lastTransitionTime": NOW},
        {"type": "DisruptionTarget", "status": "True", "lastTransitionTime": NOW},
    ]
    merged = {c["type"]: c for c in merge_conditions(existing, {"Ready": ("True", None, None)}, LATER)}
    assert merged["Ready"]["lastTransitionTime"] == NOW
    assert merged["DisruptionTarget"]["status"] == "True"
    flipped = merge_conditions(existing, {"Ready": ("False", "Why", "because")}, LATER)
    ready = next(c for c in flipped if c["type"] == "Ready")
    assert (ready["lastTransitionTime"], ready["reason"], ready["message"]) == (LATER, "Why", "because")


# -- recovery after an agent restart -------------------------------------------------------


def previously_running_pod(policy: str) -> dict[str, Any]:
    pod = make_pod(restartPolicy=policy)
    pod["status"]["containerStatuses"] = [{"name": "c", "restartCount": 2, "state": {"running": {"startedAt": NOW}}}]
    return pod


def test_lost_container_under_never_fails() -> None:
    pod = previously_running_pod("Never")
    assert was_started(pod)
    main = [ContainerState("c", "img")]
    restore_states(pod, [], main, LATER)
    assert main[0].done
    assert main[0].terminated is not None
    assert (main[0].terminated.exit_code, main[0].terminated.reason) == (137, "ContainerStatusUnknown")
    assert pod_phase([], main) == "Failed"


def test_lost_container_under_on_failure_runs_again() -> None:
    pod = previously_running_pod("OnFailure")
    main = [ContainerState("c", "img")]
    restore_states(pod, [], main, LATER)
    restart_lost(main)
    assert not main[0].done
    assert main[0].restart_count == 2
    assert main[0].ever_started
    assert main[0].last_terminated is not None


def test_fresh_pod_was_not_started() -> None:
    assert not was_started(make_pod())


# -- credentials ----------------------------------------------------------------------------

TOKEN_VOLUME = {
    "name": "kube-api-access-x",
    "projected": {
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt"}},
        ]
    },
}


def test_token_follows_the_admission_resolved_volume() -> None:
    assert wants_service_account_token(make_pod(volumes=[TOKEN_VOLUME]))
    assert not wants_service_account_token(make_pod())  # automount off for the service account
    opted_out = make_pod(volumes=[TOKEN_VOLUME], automountServiceAccountToken=False)
    assert not wants_service_account_token(opted_out)
    assert wants_service_account_token(make_pod(automountServiceAccountToken=True))


def test_token_request_is_bound_to_the_pod() -> None:
    body = token_request(make_pod(volumes=[TOKEN_VOLUME]))
    assert body["spec"] == {
        "expirationSeconds": 3600,
        "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "job-abc", "uid": "u-1"},
    }


# -- node -------------------------------------------------------------------------------------

HOST = HostInfo(
    kernel_version="6.1.0",
    os_image="Debian GNU/Linux 12 (bookworm)",
    architecture="amd64",
    machine_id="m" * 32,
    boot_id="b",
)


def test_node_object_is_ready_with_fixed_allocatable_and_no_taints() -> None:
    node = node_object("tracker-node", "v1.35.4", HOST, NOW)
    status = node["status"]
    assert status["allocatable"]["cpu"] == "8"
    assert status["allocatable"]["memory"] == "16Gi"
    assert status["capacity"]["pods"] == "110"
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert ready["lastHeartbeatTime"] == NOW
    assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
    assert {"type": "Hostname", "address": "tracker-node"} in status["addresses"]
    assert status["nodeInfo"]["kubeletVersion"] == "v1.35.4"
    assert "taints" not in node["spec"]
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "tracker-node"


def test_heartbeat_refreshes_every_condition_without_moving_transitions() -> None:
    conditions = heartbeat_patch(LATER)["status"]["conditions"]
    assert {c["lastHeartbeatTime"] for c in conditions} == {LATER}
    assert all("lastTransitionTime" not in c for c in conditions)


def test_lease_is_owned_by_the_node() -> None:
    lease = lease_object("tracker-node", "node-uid", "2026-05-13T19:02:11.000000Z")
    assert lease["metadata"]["namespace"] == "kube-node-lease"
    assert lease["metadata"]["ownerReferences"][0]["uid"] == "node-uid"
    assert lease["spec"]["holderIdentity"] == "tracker-node"


def test_pod_dir_layout(tmp_path: Any) -> None:
    assert pod_dir(tmp_path, "lab", "job-abc", "u-1") == tmp_path / "pods" / "lab_job-abc_u-1"


# -- status reporting against a fake API ---------------------------------------------------------


class FakeKube:
    """Answers the status patch with 409 `conflicts` times, then accepts it."""

    def __init__(self, pod: dict[str, Any], conflicts: int) -> None:
        self.pod = pod
        self.conflicts = conflicts
        self.patches: list[dict[str, Any]] = []
        self.reads = 0

    def patch(self, path: str, body: dict[str, Any], content_type: str = "") -> dict[str, Any]:
        self.patches.append(body)
        if self.conflicts:
            self.conflicts -= 1
            self.pod["metadata"]["resourceVersion"] = str(int(self.pod["metadata"]["resourceVersion"]) + 1)
            raise ApiException(status=409, reason="Conflict")
        return self.pod

    def get(self, path: str) -> dict[str, Any]:
        self.reads += 1
        return self.pod


def running_report() -> PodReport:
    return PodReport(main=[ContainerState("c", "img", running_since=NOW, pid=1, ever_started=True)], start_time=NOW)


def test_conflicting_status_patch_is_retried_with_a_fresh_read() -> None:
    kube = FakeKube(make_pod(), conflicts=2)
    reporter = StatusReporter(kube, make_pod())  # type: ignore[arg-type]
    reporter.publish(make_pod(), running_report())
    assert kube.reads == 2
    assert [p["metadata"]["resourceVersion"] for p in kube.patches] == ["7", "8", "9"]
    assert reporter.last_phase == "Running"


def test_unchanged_status_is_not_sent_again() -> None:
    kube = FakeKube(make_pod(), conflicts=0)
    reporter = StatusReporter(kube, make_pod())  # type: ignore[arg-type]
    reporter.publish(make_pod(), running_report())
    reporter.publish(make_pod(), running_report())
    assert len(kube.patches) == 1


def test_status_of_a_replaced_pod_is_not_written() -> None:
    kube = FakeKube(make_pod(), conflicts=1)
    kube.pod = {**kube.pod, "metadata": {**kube.pod["metadata"], "uid": "someone-else"}}
    reporter = StatusReporter(kube, make_pod())  # type: ignore[arg-type]
    with pytest.raises(PodGone):
        reporter.publish(make_pod(), running_report())


def test_active_deadline() -> None:
    started = datetime(2026, 5, 13, 19, 2, 11, tzinfo=UTC)
    pod = make_pod(activeDeadlineSeconds=60)
    assert not deadline_passed(pod, NOW, started + timedelta(seconds=59))
    assert deadline_passed(pod, NOW, started + timedelta(seconds=60))
    assert not deadline_passed(make_pod(), NOW, started + timedelta(days=9))


def test_grace_period_defaults_to_30_seconds() -> None:
    assert grace_period(make_pod()) == 30
    assert grace_period(make_pod(terminationGracePeriodSeconds=0)) == 0


def test_rejected_pod_report() -> None:
    status = pod_status(make_pod(), rejected_report(make_pod(), "NoEntrypoint", "no"), LATER)
    assert (status["phase"], status["reason"], status["message"]) == ("Failed", "NoEntrypoint", "no")
    waiting = status["containerStatuses"][0]["state"]["waiting"]
    assert waiting == {"reason": "NoEntrypoint", "message": "no"}


def test_api_errors_are_described_by_the_api_message() -> None:
    error = ApiException(status=403, reason="Forbidden")
    error.body = '{"kind": "Status", "message": "secrets \\"x\\" is forbidden: no relationship found"}'
    assert describe_error(error) == 'secrets "x" is forbidden: no relationship found (HTTP 403)'
    assert describe_error(OSError("boom")) == "OSError: boom"
