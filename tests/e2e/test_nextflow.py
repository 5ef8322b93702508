"""Issue 12's acceptance, against the chart-installed system: each recorded Nextflow
request sequence replayed over real HTTP to the installed API's `/tower` with alice's
service-account token (`TOWER_ACCESS_TOKEN=$(kubectl -n NS create token alice)`), and
at each step what alice sees: `kubectl get wfr`, `tracker describe run`, the read
API, `tracker get tasks` and the Run Detail page in Chromium (signed in with her
token). Then identity: a token without rights in the namespace is refused with 403
and writes nothing, a bad one gets 401."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from browser.browserkit import LAPTOP
from e2e.people import RunsNamespace
from e2e.system import E2ESystem
from fixtures.cli import Cli
from fixtures.nextflow_trace import authorization, replay
from playwright.sync_api import Browser, Page, expect

from localcluster.processes import wait_until
from localcluster.s3server import put_objects

pytestmark = pytest.mark.e2e
BUCKET = "e2e-nextflow"
RECORDED_OUTDIR = "s3://lab-results/rnaseq/"  # the pipeline's params.outdir in every sequence
OUTPUTS = {"multiqc/multiqc_report.html": 2048, "salmon/sample_1/quant.sf": 8192, "pipeline_info/trace.txt": 512}
TRIMGALORE = "NFCORE_RNASEQ:RNASEQ:TRIMGALORE"
WAIT = 60  # seconds: status writes are coalesced over tower.statusIntervalSeconds (2 here)
Check = Callable[[dict[str, Any], httpx.Response], None]


@dataclass
class Views:
    """What alice sees of the runs in her namespace."""

    system: E2ESystem
    ns: RunsNamespace
    token: str  # alice's, as `kubectl -n NS create token alice` prints it
    page: Page

    @property
    def cli(self) -> Cli:
        return Cli(self.ns.alice.kubeconfig, self.ns.name, api_url=self.system.api_url, api_token=self.token)

    def kubectl(self, *args: str) -> str:
        return self.system.kubectl(*args, "-n", self.ns.name, kubeconfig=self.ns.alice.kubeconfig).stdout

    def resources(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = json.loads(self.kubectl("get", "wfr", "-o", "json"))["items"]
        return items

    def object_name(self, run_name: str) -> str:
        found = wait_until(
            lambda: [r["metadata"]["name"] for r in self.resources() if r["spec"]["runName"] == run_name],
            timeout=WAIT,
            what=f"a WorkflowRun for {run_name}",
        )
        assert len(found) == 1, found
        return found[0]

    def columns(self, name: str) -> dict[str, str]:
        """`kubectl get wfr NAME -o wide`, as the printer columns show it."""
        header, row = self.kubectl("get", "wfr", name, "-o", "wide").splitlines()
        spans = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", header)]
        ends = [start for start, _ in spans[1:]] + [None]
        return {name: row[start:end].strip() for (start, name), end in zip(spans, ends, strict=True)}

    def kubectl_shows(self, name: str, what: str, test: Callable[[dict[str, str]], bool]) -> dict[str, str]:
        return wait_until(
            lambda: (c := self.columns(name)) and test(c) and c, timeout=WAIT, what=f"kubectl get wfr {name}: {what}"
        )

    def status(self, name: str) -> dict[str, Any]:
        status: dict[str, Any] = json.loads(self.kubectl("get", "wfr", name, "-o", "json")).get("status") or {}
        return status

    def describe(self, name: str) -> str:
        result = self.cli("describe", "run", name)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def describe_shows(self, name: str, what: str, pattern: str) -> str:
        return wait_until(
            lambda: (d := self.describe(name)) and re.search(pattern, d, re.M) and d,
            timeout=WAIT,
            what=f"tracker describe run {name}: {what}",
        )

    def api(self, path: str, **params: Any) -> Any:
        answer = httpx.get(
            f"{self.system.api_url}/api/v1{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=15,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def api_shows(self, run_id: str, what: str, test: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        return wait_until(
            lambda: (d := self.api(f"/runs/{run_id}")) and test(d) and d, timeout=WAIT, what=f"the API: {what}"
        )

    def open(self, run_id: str, tab: str | None = None) -> Page:
        self.page.goto(f"{self.system.api_url}/runs/{run_id}" + (f"?tab={tab}" if tab else ""))
        expect(self.page.locator("h1")).to_be_visible()
        return self.page

    def running(self, run_name: str) -> tuple[str, str]:
        """The run is Running everywhere alice looks; its object name and run id."""
        name = self.object_name(run_name)
        columns = self.kubectl_shows(name, "Running", lambda c: c["STATE"] == "Running" and c["ID"] != "<none>")
        assert (columns["RUN"], columns["OWNER"], columns["ENGINE"]) == (run_name, self.ns.alice.username, "nextflow")
        run_id = columns["ID"]
        detail = self.api_shows(run_id, "Running", lambda d: d["state"] == "Running")
        assert (detail["runName"], detail["owner"], detail["namespace"]) == (
            run_name,
            self.ns.alice.username,
            self.ns.name,
        )
        described = self.describe(name)
        assert re.search(r"^State:\s+Running$", described, re.M), described
        assert re.search(rf"^Owner:\s+{re.escape(self.ns.alice.username)}$", described, re.M)
        page = self.open(run_id)
        expect(page.locator("h1")).to_have_text(run_name)
        expect(page.locator("#run-state")).to_have_text("Running")
        return name, run_id

    def tasks(self, run_id: str) -> list[tuple[int, str, int, int | None]]:
        items = self.api(f"/runs/{run_id}/tasks", limit=1000)["items"]
        return [(t["taskId"], t["status"], t["attempt"], t["exitCode"]) for t in items]

    def tasks_cli(self, run_id: str) -> list[list[str]]:
        """`tracker get tasks`: TASK, PROCESS, TAG, STATUS, ATTEMPT, EXIT per row."""
        result = self.cli("get", "tasks", run_id)
        assert result.returncode == 0, result.stderr
        header, *rows = result.stdout.splitlines()
        assert header.split()[:7] == ["TASK", "PROCESS", "TAG", "STATUS", "ATTEMPT", "EXIT", "DURATION"]
        return [row.split() for row in rows]

    def page_tasks(self, run_id: str) -> list[list[str]]:
        """The Run Detail page's tasks table: task, name, process, status, attempt, exit code, duration."""
        page = self.open(run_id, "overview")
        return [row.locator("th, td").all_inner_texts() for row in page.locator("#tasks-table tbody tr").all()]


@pytest.fixture(scope="module")
def views(e2e_system: E2ESystem, runs_namespace: RunsNamespace, browser: Browser) -> Iterator[Views]:
    client = e2e_system.s3_client()
    if BUCKET not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=BUCKET)
    token = e2e_system.token(runs_namespace.alice.home, runs_namespace.alice.name)
    context = browser.new_context(viewport=LAPTOP)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{e2e_system.api_url}/login")
    page.fill("#token", token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/runs")
    expect(page.locator(".signout")).to_contain_text(runs_namespace.alice.username)
    yield Views(e2e_system, runs_namespace, token, page)
    context.close()


def trace(views: Views, name: str, check: Check, **options: Any) -> list[str]:
    """Replay sequence `name` to the installed API's /tower as alice, its outputs
    going to a prefix of the test bucket that already holds a few objects."""
    put_objects(views.system.s3_client(), BUCKET, [(f"{name}/{key}", size) for key, size in OUTPUTS.items()])
    with httpx.Client(base_url=views.system.api_url, timeout=30) as http:
        return replay(
            http,
            name,
            views.token,
            check=check,
            live=True,
            substitute={RECORDED_OUTDIR: f"s3://{BUCKET}/{name}/"},
            **options,
        )


def endpoint(step: dict[str, Any]) -> str:
    """`create`, `begin`, `progress`, `heartbeat` or `complete`."""
    return str(step["path"]).rsplit("/", 1)[-1]


class StateWatch:
    """`kubectl get wfr NAME --watch`: each state the run is in, as the apiserver
    reports its changes (a state that lasts a moment is seen too)."""

    def __init__(self) -> None:
        self._states: queue.Queue[str] = queue.Queue()
        self._process: subprocess.Popen[str] | None = None

    def start(self, views: Views, name: str) -> None:
        argv = [str(views.system.bin_dir / "kubectl"), f"--kubeconfig={views.ns.alice.kubeconfig}", "-n", views.ns.name]
        argv += ["get", "wfr", name, "--watch", "-o", 'jsonpath={.status.state}{"\\n"}']
        self._process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read, args=(self._process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        for line in process.stdout or ():
            self._states.put(line.strip())

    def wait_for(self, state: str, *, timeout: float) -> None:
        deadline, seen = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            try:
                seen.append(self._states.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
            if seen[-1] == state:
                return
        raise AssertionError(f"the watch saw {seen}, never {state} within {timeout} s")

    def __enter__(self) -> StateWatch:
        return self

    def __exit__(self, *_: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)


def test_a_successful_run_live_then_indexed_with_its_task_attempts(views: Views) -> None:
    seen: dict[str, str] = {}
    progress = 0

    def check(step: dict[str, Any], _answer: httpx.Response) -> None:
        nonlocal progress
        if endpoint(step) == "begin":
            seen["name"], seen["id"] = views.running("sad_einstein")
        if endpoint(step) == "progress":
            progress += 1
        if endpoint(step) == "progress" and progress == 2:  # mid-run: one running, one retried
            name, run_id = seen["name"], seen["id"]
            detail = views.api_shows(
                run_id,
                "live counts",
                lambda d: any(p["name"] == TRIMGALORE and p["running"] == 1 for p in d["processes"]),
            )
            trim = next(p for p in detail["processes"] if p["name"] == TRIMGALORE)
            assert (trim["running"], trim["submitted"], trim["retried"], trim["failed"]) == (1, 1, 1, 0)
            assert detail["peakConcurrency"] == 3
            described = views.describe(name)
            assert re.search(
                r"^\s+NFCORE_RNASEQ:RNASEQ:TRIMGALORE\s+0\s+0\s+0\s+1\s+0\s+1\s+1\s+0$", described, re.M
            ), described
            page = views.open(run_id)
            row = page.locator("#process-table tbody tr", has_text="RNASEQ:TRIMGALORE")
            expect(row.locator("td")).to_have_text(["0", "0", "0", "1", "0", "1", "1"])
            assert views.kubectl_shows(name, "still Running", lambda c: True)["STATE"] == "Running"
            live = [(1, "CACHED", 1, 0), (2, "COMPLETED", 1, 0), (3, "RETRIED", 1, 137), (4, "RUNNING", 1, None)]
            live += [(5, "SUBMITTED", 2, None)]
            assert views.tasks(run_id) == live  # committed before the progress call was answered
            assert [(int(r[0]), r[3], int(r[4])) for r in views.page_tasks(run_id)] == [t[:3] for t in live]

    trace(views, "succeeded", check)
    name, run_id = seen["name"], seen["id"]
    columns = views.kubectl_shows(name, "Succeeded, outputs indexed", lambda c: c["OUTPUTS"] not in ("", "<none>"))
    assert columns["STATE"] == "Succeeded"
    assert columns["OUTPUTS"] == "10.5 KiB"
    detail = views.api_shows(run_id, "outputs indexed", lambda d: d["outputs"].get("indexedAt"))
    assert (detail["state"], detail["outputs"]["count"]) == ("Succeeded", len(OUTPUTS))
    described = views.describe(name)
    assert re.search(r"^State:\s+Succeeded$", described, re.M)
    assert re.search(r"^\s+Objects:\s+3$", described, re.M), described
    page = views.open(run_id)
    expect(page.locator("#run-state")).to_have_text("Succeeded")
    expect(page.locator("#info-outputs")).to_contain_text("(3 objects)")

    # every attempt, cached and retried kept apart, in the API, the CLI and the page
    attempts = [(1, "CACHED", 1, 0), (2, "COMPLETED", 1, 0), (3, "RETRIED", 1, 137)]
    attempts += [(4, "COMPLETED", 1, 0), (5, "COMPLETED", 2, 0), (6, "COMPLETED", 1, 0)]
    assert views.tasks(run_id) == attempts
    cli_rows = views.tasks_cli(run_id)
    assert [(int(r[0]), r[-4], int(r[-3]), int(r[-2]) if r[-2].isdigit() else None) for r in cli_rows] == attempts
    assert [r[1] for r in cli_rows if r[0] == "3"] == [TRIMGALORE]
    page_rows = views.page_tasks(run_id)
    assert [(int(r[0]), r[3], int(r[4]), int(r[5])) for r in page_rows] == attempts
    assert page_rows[2][2] == "RNASEQ:TRIMGALORE"


def test_a_failed_run_shows_its_error_on_the_error_and_resume_tab(views: Views) -> None:
    seen: dict[str, str] = {}

    def check(step: dict[str, Any], _answer: httpx.Response) -> None:
        if endpoint(step) == "begin":
            seen["name"], seen["id"] = views.running("hungry_curie")

    trace(views, "failed", check)  # a Bearer (JWT) token, as Nextflow sends one
    name, run_id = seen["name"], seen["id"]
    assert views.kubectl_shows(name, "Failed", lambda c: c["STATE"] == "Failed")["OWNER"] == views.ns.alice.username
    error = "Process `NFCORE_RNASEQ:RNASEQ:FASTQC (sample_1)` terminated with an error exit status (1)"
    assert views.status(name)["errorMessage"].startswith(error)
    detail = views.api_shows(run_id, "Failed", lambda d: d["state"] == "Failed")
    assert detail["errorMessage"].startswith(error)
    assert re.search(rf"^\s+Error:\s+{re.escape(error)}", views.describe(name), re.M)
    page = views.open(run_id)  # a failed run opens on Error & Resume
    expect(page.get_by_role("tab", name="Error & Resume")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#error-message")).to_contain_text(error)
    expect(page.locator("#resume-command")).to_contain_text("-resume 0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9")
    assert views.tasks(run_id) == [(1, "FAILED", 1, 1), (2, "ABORTED", 1, None)]
    assert [(r[0], r[3]) for r in views.page_tasks(run_id)] == [("1", "FAILED"), ("2", "ABORTED")]


def test_a_resumed_run_keeps_its_earlier_execution_in_the_history(views: Views) -> None:
    seen: dict[str, str] = {}
    begun = 0

    def check(step: dict[str, Any], _answer: httpx.Response) -> None:
        nonlocal begun
        if endpoint(step) == "begin":
            begun += 1
        if endpoint(step) == "begin" and begun == 1:
            seen["name"], seen["id"] = views.running("tiny_turing")
        if endpoint(step) == "complete" and begun == 1:
            views.kubectl_shows(seen["name"], "Failed", lambda c: c["STATE"] == "Failed")
            views.api_shows(seen["id"], "Failed", lambda d: d["state"] == "Failed")
        if endpoint(step) == "begin" and begun == 2:  # `-resume`: the same run, Running again
            name, run_id = seen["name"], seen["id"]
            assert views.kubectl_shows(name, "Running again", lambda c: c["STATE"] == "Running")["ID"] == run_id
            detail = views.api_shows(run_id, "Running again", lambda d: d["state"] == "Running")
            assert [(e["current"], e["phase"]) for e in detail["executions"]] == [(True, "Running"), (False, "Failed")]

    trace(views, "resumed", check)
    name, run_id = seen["name"], seen["id"]
    assert [r["spec"]["runName"] for r in views.resources()].count("tiny_turing") == 1
    views.kubectl_shows(name, "Succeeded", lambda c: c["STATE"] == "Succeeded")
    detail = views.api_shows(run_id, "Succeeded", lambda d: d["state"] == "Succeeded")
    assert [(e["current"], e["phase"]) for e in detail["executions"]] == [(True, "Succeeded"), (False, "Failed")]
    earlier = detail["executions"][1]
    assert earlier["errorMessage"].startswith("Process `FASTQC (sample_2)` terminated with an error exit status (2)")
    page = views.open(run_id, "history")
    rows = page.locator("#history-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Current")
    expect(rows.nth(0)).to_contain_text("Succeeded")
    expect(rows.nth(1)).to_contain_text("Failed")
    expect(rows.nth(1)).to_contain_text("FASTQC (sample_2)")
    # both executions' attempts (task ids restart in a resumed execution)
    assert sorted(views.tasks(run_id)) == [
        (1, "CACHED", 1, 0),
        (1, "COMPLETED", 1, 0),
        (2, "COMPLETED", 1, 0),
        (2, "FAILED", 1, 2),
    ]
    assert sorted((r[0], r[3]) for r in views.page_tasks(run_id)) == [
        ("1", "CACHED"),
        ("1", "COMPLETED"),
        ("2", "COMPLETED"),
        ("2", "FAILED"),
    ]


def test_a_silent_runner_is_disconnected_then_comes_back(views: Views) -> None:
    seen: dict[str, str] = {}
    admin = views.system  # alice may not edit a run's spec: the platform team lowers its timeout
    watch = StateWatch()

    def check(step: dict[str, Any], _answer: httpx.Response) -> None:
        if endpoint(step) == "begin":
            seen["name"], seen["id"] = views.running("quiet_lovelace")
        if endpoint(step) == "heartbeat":  # the runner is back: cleared at once
            name = seen["name"]
            watch.wait_for("Running", timeout=WAIT)  # started in the silence, it sees every state since
            # lasting: the platform team restores a long timeout once the heartbeat cleared it
            admin.kubectl(
                "patch",
                "wfr",
                name,
                "-n",
                views.ns.name,
                "--type=merge",
                "-p",
                '{"spec": {"heartbeatTimeoutSeconds": 600}}',
            )
            wait_until(
                lambda: any(
                    c["type"] == "Disconnected" and c["status"] == "False" for c in views.status(name)["conditions"]
                ),
                timeout=WAIT,
                what="the Disconnected condition cleared",
            )
            detail = views.api_shows(seen["id"], "connected again", lambda d: not d["disconnected"])
            assert detail["state"] == "Running"
            expect(views.open(seen["id"]).locator("#disconnected-banner")).to_have_count(0)

    def silence(_workflow_id: str) -> None:
        name, run_id = seen["name"], seen["id"]
        admin.kubectl(
            "patch", "wfr", name, "-n", views.ns.name, "--type=merge", "-p", '{"spec": {"heartbeatTimeoutSeconds": 3}}'
        )
        columns = views.kubectl_shows(name, "Disconnected", lambda c: c["STATE"] == "Disconnected")
        assert columns["LAST HEARTBEAT"] not in ("", "<none>")
        views.describe_shows(name, "the Disconnected condition", r"^\s+Disconnected\s+True\s+HeartbeatMissing\b")
        views.describe_shows(name, "a Disconnected event", r"^\s+Warning\s+Disconnected\s")
        detail = views.api_shows(run_id, "Disconnected", lambda d: d["disconnected"])
        assert detail["state"] == "Disconnected"
        banner = views.open(run_id).locator("#disconnected-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("the runner's heartbeat is stale")
        watch.start(views, name)

    with watch:
        trace(views, "silent", check, on_silence=silence)
    name = seen["name"]
    assert views.kubectl_shows(name, "Succeeded", lambda c: c["STATE"] == "Succeeded")["RUN"] == "quiet_lovelace"
    detail = views.api_shows(seen["id"], "Succeeded", lambda d: d["state"] == "Succeeded")
    assert detail["disconnected"] is False
    views.describe_shows(name, "a DisconnectedCleared event", r"^\s+Normal\s+DisconnectedCleared\s")
    assert views.tasks(seen["id"]) == [(1, "COMPLETED", 1, 0)]


def test_the_receiver_refuses_a_token_without_rights_and_a_bad_token(views: Views) -> None:
    system, ns = views.system, views.ns
    system.kubectl("create", "serviceaccount", "mallory", "-n", ns.name)  # no role in the namespace
    mallory = system.token(ns.name, "mallory")
    before = {r["metadata"]["name"] for r in views.resources()}
    runs_before = views.api("/runs", limit=100)["total"]
    body = {"sessionId": "5e55-1", "runName": "sneaky_mallory", "workflowId": None, "instant": 1796068800000}
    create = f"{system.api_url}/tower/trace/create"
    for scheme in ("bearer", "basic"):
        refused = httpx.post(create, json=body, headers={"Authorization": authorization(mallory, scheme)}, timeout=15)
        assert refused.status_code == 403, refused.text
        assert "may not create WorkflowRuns" in refused.json()["detail"]
    bad = httpx.post(create, json=body, headers={"Authorization": authorization(mallory[:-4] + "AAAA", "basic")})
    assert bad.status_code == 401, bad.text
    assert httpx.post(create, json=body, timeout=15).status_code == 401
    assert {r["metadata"]["name"] for r in views.resources()} == before
    assert views.api("/runs", limit=100)["total"] == runs_before
    assert views.api("/runs", name="sneaky_mallory")["items"] == []
