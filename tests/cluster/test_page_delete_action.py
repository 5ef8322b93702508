"""Issue 14's Actions menu against the real stack: the local control plane with the
chart's RBAC and requester-identity admission policy, the operator, worker Jobs run by
the node agent, the local S3 server, and `tracker-api` in `kubernetes` auth mode under
its own service account (TokenReviews; no right on lifecycle jobs), in Chromium.

Alice (a service account bound to `tracker-user`) owns a run: she signs in with her
token, finds "Delete output dir" in the Actions menu, is refused until she types
`delete` exactly, and then the OutputLifecycleJob is created as her (admission saw her
identity), the worker deletes every object under the run's prefix, and the page shows
the outputs Deleted by her. Bob, a colleague with the same rights, sees no menu; a
global admin without rights in the namespace is offered it and told Kubernetes'
refusal; a POST from another site is refused."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from browser.browserkit import LAPTOP, screenshot, sign_in
from fixtures.trackerapi import serve
from fixtures.workflowruns import create_run, now, report, status_of
from playwright.sync_api import Browser, Page, expect

from localcluster.controlplane import ControlPlane
from localcluster.processes import wait_until
from localcluster.s3server import S3Server, put_objects
from localcluster.tracker import API_SERVICE_ACCOUNT, SYSTEM_NAMESPACE, Operator, service_account_kubeconfig

pytestmark = pytest.mark.cluster
ADMINS_NAMESPACE = f"actions-admins-{uuid.uuid4().hex[:6]}"
ADMIN = f"system:serviceaccount:{ADMINS_NAMESPACE}:carol"  # in admins.users, bound to no role
OBJECTS = {"results/counts.tsv": 4096, "results/a b.txt": 700, "multiqc/report.html": 2048}
JOB_TIMEOUT = 180.0


def sa_user(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


def token_of(plane: ControlPlane, namespace: str, name: str) -> str:
    plane.kubectl("create", "serviceaccount", name, "-n", namespace, check=False)
    return plane.kubectl("create", "token", name, "-n", namespace, "--duration=1h").stdout.strip()


@pytest.fixture(scope="module")
def page_api(tracker_operator: Operator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tracker-api` on the operator's index, signing users in with TokenReviews, under the
    API's service account (rbac/api.yaml and rbac/api-runs.yaml: nothing on lifecycle jobs)."""
    plane = tracker_operator.plane
    plane.kubectl("create", "namespace", ADMINS_NAMESPACE)
    state = tmp_path_factory.mktemp("actions-api")
    kubeconfig = service_account_kubeconfig(plane, API_SERVICE_ACCOUNT, state / "api.kubeconfig")
    api = serve(
        tracker_operator.database_url,
        state,
        KUBECONFIG=str(kubeconfig),
        TRACKER_API__AUTH_MODE="kubernetes",
        TRACKER_ADMINS__USERS=json.dumps([ADMIN]),
    )
    yield api.url
    api.process.stop()
    plane.kubectl("delete", "namespace", ADMINS_NAMESPACE, "--wait=false", check=False)


@dataclass
class Lab:
    namespace: str
    run: str
    run_id: str
    prefix: str
    bucket: str
    owner: str
    tokens: dict[str, str]


@pytest.fixture
def lab(tracker_operator: Operator, tracked_namespace: str, s3_server: S3Server, s3_bucket: str) -> Lab:
    """Alice's succeeded run with indexed outputs; alice and bob may use `tracker-user` there."""
    plane, ns = tracker_operator.plane, tracked_namespace
    tokens = {}
    for person in ("alice", "bob"):
        tokens[person] = token_of(plane, ns, person)
        plane.kubectl(
            "create", "rolebinding", f"{person}-tracker-user", "--clusterrole=tracker-user",
            f"--serviceaccount={ns}:{person}", "-n", ns,
        )  # fmt: skip
    tokens["carol"] = token_of(plane, ADMINS_NAMESPACE, "carol")
    owner, run, prefix = sa_user(ns, "alice"), "lab-run-1", "runs/lab-run-1/"
    put_objects(s3_server.client(), s3_bucket, {prefix + key: size for key, size in OBJECTS.items()})
    put_objects(s3_server.client(), s3_bucket, {"runs/lab-run-10/keep.txt": 10})  # a neighbour prefix
    create_run(plane, ns, run, owner=owner, outputDir=f"s3://{s3_bucket}/{prefix}")
    report(plane, ns, run, {"phase": "Succeeded", "completedAt": now(), "lastHeartbeatTime": now()})
    try:
        indexed = wait_until(
            lambda: (s := status_of(plane, ns, run)).get("outputs", {}).get("count") == len(OBJECTS) and s,
            timeout=120,
            what=f"{run}'s outputs indexed",
        )
    except TimeoutError:
        print(tracker_operator.log_tail())
        raise
    return Lab(ns, run, indexed["id"], prefix, s3_bucket, owner, tokens)


def deletions(plane: ControlPlane, namespace: str) -> list[dict[str, Any]]:
    """The namespace's delete_outputs jobs (the operator's own index job lives there too)."""
    items = json.loads(plane.kubectl("get", "olj", "-n", namespace, "-o", "json").stdout)["items"]
    return [j for j in items if j["spec"]["operation"] == "delete_outputs"]


def keys(s3: S3Server, bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", ())]


def open_run(browser: Browser, url: str, token: str) -> Page:
    page = browser.new_context(viewport=LAPTOP).new_page()
    sign_in(page, url, token)
    expect(page.locator("h1")).to_be_visible()
    return page


def test_the_owner_deletes_the_outputs_from_the_page_as_herself(
    page_api: str, lab: Lab, tracker_operator: Operator, s3_server: S3Server, browser: Browser
) -> None:
    plane, ns = tracker_operator.plane, lab.namespace
    run_url = f"{page_api}/runs/{lab.run_id}"
    confirm_url = f"{run_url}/delete-outputs"
    api_account = sa_user(SYSTEM_NAMESPACE, API_SERVICE_ACCOUNT)
    can_i = plane.kubectl(
        "auth", "can-i", "create", "outputlifecyclejobs.tracker.dev", "-n", ns, f"--as={api_account}", check=False
    )
    assert can_i.stdout.strip() == "no", "the API's own account may not create lifecycle jobs"

    # A colleague with the same rights sees no Actions menu and cannot reach the confirmation.
    bob = open_run(browser, run_url, lab.tokens["bob"])
    expect(bob.locator("#info-outputs-size")).to_be_visible()
    expect(bob.locator("#run-actions")).to_have_count(0)
    screenshot(bob, "delete-action-colleague")
    answer = bob.goto(confirm_url)
    assert answer is not None
    assert answer.status == 403
    expect(bob.locator("#error-detail")).to_contain_text("owner and to admins only")
    bob.context.close()

    # A global admin (by the tracker's settings) is offered it; Kubernetes refuses her (no RBAC there).
    carol = {"Authorization": f"Bearer {lab.tokens['carol']}"}
    with httpx.Client(timeout=30) as http:
        refused = http.post(confirm_url, data={"confirm": "delete"}, headers=carol)
        assert refused.status_code == 403, refused.text
        assert "Kubernetes refused the deletion job: " in refused.text
        assert re.search(
            r"outputlifecyclejobs.tracker.dev is forbidden: User &#34;" + re.escape(ADMIN), refused.text
        ), refused.text
        alice = {"Authorization": f"Bearer {lab.tokens['alice']}"}
        elsewhere = http.post(
            confirm_url, data={"confirm": "delete"}, headers={**alice, "Origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 403
        assert "another site" in elsewhere.text
    assert deletions(plane, ns) == []

    # The owner: the menu, the confirmation, a wrong word refused with nothing created.
    page = open_run(browser, run_url, lab.tokens["alice"])
    page.locator("#run-actions > summary").click()
    expect(page.locator("#action-delete-outputs")).to_be_visible()
    screenshot(page, "delete-action-menu")
    page.locator("#action-delete-outputs").click()
    page.wait_for_url(f"**/runs/{lab.run_id}/delete-outputs")
    expect(page.locator("#delete-output-dir")).to_have_text(f"s3://{lab.bucket}/{lab.prefix}")
    for wrong in ("Delete", "yes", "delete please"):
        page.fill("#confirm-text", wrong)
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="Delete output dir").click()
        assert navigation.value is not None
        assert navigation.value.status == 422
        expect(page.locator("#delete-problem")).to_have_text(
            f"You typed {wrong!r}: type delete (exactly, in lower case) to confirm. Nothing was deleted."
        )
    screenshot(page, "delete-action-refused-word")
    assert deletions(plane, ns) == []
    assert sorted(keys(s3_server, lab.bucket, lab.prefix)) == sorted(lab.prefix + k for k in OBJECTS)

    # `delete`: the job is created as alice and the page follows it to the end.
    page.fill("#confirm-text", "delete")
    page.get_by_role("button", name="Delete output dir").click()
    page.wait_for_url(re.compile(rf".*/runs/{lab.run_id}/delete-outputs/{lab.run}-delete-[a-z0-9]+$"))
    expect(page.locator("#delete-job-requester")).to_have_text(lab.owner)
    expect(page.locator("#delete-job-phase")).to_contain_text("Succeeded", timeout=JOB_TIMEOUT * 1000)
    expect(page.locator("#delete-headline")).to_have_text("The outputs are deleted.")
    expect(page.locator("#delete-job-progress")).to_have_text(f"{len(OBJECTS)} objects deleted (6.7 KiB)")
    screenshot(page, "delete-action-succeeded")

    [job] = deletions(plane, ns)
    assert page.url.endswith("/" + job["metadata"]["name"])
    assert job["spec"]["operation"] == "delete_outputs"
    assert job["spec"]["run"] == lab.run
    assert job["spec"]["requestedBy"] == lab.owner  # the admission policy compared it with the creator
    assert {"system:serviceaccounts", f"system:serviceaccounts:{ns}"} <= set(job["spec"]["requestedByGroups"])
    assert job["status"]["phase"] == "Succeeded"
    assert job["status"]["objectsDeleted"] == len(OBJECTS)
    expect(page.locator("#delete-job-id")).to_have_text(job["status"]["jobId"])
    assert keys(s3_server, lab.bucket, lab.prefix) == []
    assert keys(s3_server, lab.bucket, "runs/lab-run-10/") == ["runs/lab-run-10/keep.txt"]

    # The run page: Deleted, by her, at the time the run records; the action is spent.
    outputs = status_of(plane, ns, lab.run)["outputs"]
    assert outputs["deletedBy"] == lab.owner
    page.locator("#back-to-run").click()
    page.wait_for_url(f"**/runs/{lab.run_id}")

    def shows_deleted() -> bool:
        if page.locator("#info-deleted-by").count():
            return True
        page.reload()
        return False

    wait_until(shows_deleted, timeout=30, what="the run page to show the outputs deleted", interval=0.5)
    expect(page.locator("#info-outputs")).to_contain_text("Deleted")
    expect(page.locator("#info-deleted-by")).to_have_text(f"by {lab.owner} at {outputs['deletedAt']}")
    page.locator("#run-actions > summary").click()
    expect(page.locator("#action-delete-outputs-why")).to_have_text("The outputs are already deleted.")
    screenshot(page, "delete-action-deleted-by")
    page.locator("#tab-jobs").click()
    expect(page.locator("#jobs-table")).to_contain_text(job["status"]["jobId"])
    page.context.close()
