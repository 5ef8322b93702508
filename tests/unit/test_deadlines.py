"""The deadline scheduler, without a cluster: whatever the sequence of schedule and
forget calls, each key is due once, at its latest due time, in order, and never after
it was forgotten; its task calls back at each due time and again after a failure."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given
from hypothesis import strategies as st

from tracker.operator.deadlines import Deadlines

KEYS = st.sampled_from(["a", "b", "c", "d", "e"])
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("schedule"), KEYS, st.integers(0, 40)),
        st.tuples(st.just("forget"), KEYS, st.just(0)),
        st.tuples(st.just("advance"), st.just(""), st.integers(0, 10)),
    ),
    max_size=60,
)


@given(STEPS)
def test_each_key_is_due_once_at_its_latest_time_in_order_never_after_forget(
    steps: list[tuple[str, str, int]],
) -> None:
    deadlines: Deadlines[str] = Deadlines()
    wanted: dict[str, tuple[int, int]] = {}  # key -> (due time, order of its scheduling)
    now = 0
    for order, (action, key, value) in enumerate([*steps, ("advance", "", 1000)]):
        if action == "schedule":
            if wanted.get(key, (None,))[0] != value:
                wanted[key] = (value, order)
            deadlines.schedule(key, value)
        elif action == "forget":
            wanted.pop(key, None)
            deadlines.forget(key)
        else:
            now += value
            fired, upcoming = deadlines.pop_due(now)
            expected = sorted((k for k, (at, _) in wanted.items() if at <= now), key=lambda k: wanted[k])
            assert fired == expected
            for k in fired:
                del wanted[k]
            assert upcoming == min((at for at, _ in wanted.values()), default=None)
            assert deadlines.due == {k: at for k, (at, _) in wanted.items()}
    assert deadlines.pop_due(now + 1000) == ([], None)


def test_moving_a_key_many_times_keeps_the_heap_small() -> None:
    deadlines: Deadlines[str] = Deadlines()
    for at in range(10_000):
        deadlines.schedule("run", float(at))
    assert len(deadlines._heap) <= 2 + 1024
    assert deadlines.pop_due(20_000.0) == (["run"], None)


def test_the_task_calls_back_in_order_and_again_after_a_failure() -> None:
    fired: list[str] = []

    async def fire(key: str) -> None:
        fired.append(key)
        if key == "flaky" and fired.count("flaky") == 1:
            raise RuntimeError("the API server said no")

    async def scenario() -> None:
        deadlines: Deadlines[str] = Deadlines()
        task = asyncio.create_task(deadlines.run(fire))
        await asyncio.sleep(0)  # the task is waiting, with nothing due
        now = time.time()
        deadlines.schedule("late", now + 0.3)
        deadlines.schedule("soon", now + 0.1)
        deadlines.schedule("flaky", now + 0.2)
        deadlines.schedule("forgotten", now + 0.15)
        deadlines.forget("forgotten")
        deadline = time.monotonic() + 5
        while len(fired) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert deadlines.due.keys() == {"flaky"}  # failed: due again RETRY_SECONDS later
        assert deadlines.due["flaky"] >= now + 5
        task.cancel()

    # On a thread of its own: the browser tier's Playwright keeps an event loop running on
    # the main thread for the rest of the session.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=10)
    assert fired == ["soon", "flaky", "late"]
