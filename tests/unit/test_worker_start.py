"""The operator's bookkeeping of a worker's start, without a cluster: the WorkerStarted
condition, the deadline keeper, and the labels that name a worker Job's lifecycle job."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from tracker.operator.deadlines import Deadlines
from tracker.operator.workers import cannot_start, owner_of, shown_reason, worker_started


def test_a_worker_that_cannot_start_is_a_false_condition_with_the_pods_reason() -> None:
    status = cannot_start(
        "ImagePullBackOff",
        "worker pod p cannot start: Back-off pulling image",
        [{"type": "Admitted", "status": "True", "reason": "Admitted", "message": "", "lastTransitionTime": "t"}],
    )
    assert (status["reason"], status["message"]) == (
        "ImagePullBackOff",
        "worker pod p cannot start: Back-off pulling image",
    )
    kept, worker = status["conditions"]
    assert kept["type"] == "Admitted"
    assert (worker["type"], worker["status"], worker["reason"]) == ("WorkerStarted", "False", "ImagePullBackOff")


def test_worker_started_turns_true_once_running_and_only_once() -> None:
    waiting = cannot_start("CreateContainerConfigError", "m", [])["conditions"]
    assert worker_started({"status": {"phase": "Enqueued", "conditions": waiting}}) is None
    patch = worker_started({"status": {"phase": "Running", "conditions": waiting}})
    assert patch is not None
    (condition,) = patch["conditions"]
    assert (condition["status"], condition["reason"]) == ("True", "Running")
    assert worker_started({"status": {"phase": "Running", "conditions": patch["conditions"]}}) is None


def test_a_worker_job_names_its_lifecycle_job_by_labels() -> None:
    job = {
        "metadata": {
            "labels": {
                "tracker.dev/lifecycle-job-namespace": "lab",
                "tracker.dev/lifecycle-job": "d",
                "tracker.dev/lifecycle-job-uid": "u-1",
            }
        }
    }
    assert owner_of(job) == ("lab", "d", "u-1")
    assert owner_of({"metadata": {"labels": {"tracker.dev/lifecycle-job": "d"}}}) is None


def test_the_deadline_keeper_calls_back_at_each_deadline_and_not_for_forgotten_ones() -> None:
    fired: list[tuple[str, str]] = []

    async def fire(key: tuple[str, str]) -> None:
        fired.append(key)

    async def scenario() -> None:
        deadlines: Deadlines[tuple[str, str]] = Deadlines()
        task = asyncio.create_task(deadlines.run(fire))
        await asyncio.sleep(0)  # the keeper is waiting, with nothing due
        now = time.time()
        deadlines.schedule(("lab", "late"), now + 0.3)
        deadlines.schedule(("lab", "soon"), now + 0.1)
        deadlines.schedule(("lab", "forgotten"), now + 0.2)
        deadlines.forget(("lab", "forgotten"))
        deadline = time.monotonic() + 5
        while len(fired) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        task.cancel()

    # On a thread of its own: the browser tier's Playwright keeps an event loop running on
    # the main thread for the rest of the session.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=10)
    assert fired == [("lab", "soon"), ("lab", "late")]


def test_an_enqueued_job_shows_its_pods_reason_even_when_admission_wrote_later() -> None:
    conditions = cannot_start("CreateContainerConfigError", 'secrets "s3" not found', [])["conditions"]
    assert shown_reason({"status": {"phase": "Enqueued", "reason": "Enqueued", "conditions": conditions}}) == {
        "reason": "CreateContainerConfigError",
        "message": 'secrets "s3" not found',
    }
    assert (
        shown_reason(
            {"status": {"phase": "Enqueued", "reason": "CreateContainerConfigError", "conditions": conditions}}
        )
        is None
    )
    assert shown_reason({"status": {"phase": "Failed", "reason": "Forbidden", "conditions": conditions}}) is None
