"""A deadline scheduler: keys with a due time, and one task that calls back at each.

The operator keeps two: the start deadlines of Enqueued lifecycle jobs and the next
moment each active WorkflowRun's health could change (a heartbeat deadline, the end of
a stall window). Either may hold thousands of keys; one asyncio task sleeps until the
earliest (a heap), however many there are.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
RETRY_SECONDS = 5.0


@dataclass
class Deadlines(Generic[K]):
    """Due times by key (a key has one: scheduling it again moves it), and `run`, which
    calls back at each. `schedule` and `forget` may be called from any thread (lifecycle
    handlers run in threads)."""

    name: str = "deadline"
    due: dict[K, float] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    _heap: list[tuple[float, int, K]] = field(default_factory=list)
    _seq: dict[K, int] = field(default_factory=dict)
    _counter: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _running: set[asyncio.Task[None]] = field(default_factory=set)

    def schedule(self, key: K, at: float) -> None:
        """`key` is due at `at` (epoch seconds), instead of any earlier due time."""
        with self._lock:
            if self.due.get(key) == at:
                return
            earliest = self._heap[0][0] if self._heap else None
            self._counter += 1
            self.due[key], self._seq[key] = at, self._counter
            heapq.heappush(self._heap, (at, self._counter, key))
            if len(self._heap) > 2 * len(self.due) + 1024:  # stale entries of moved keys
                self._heap = [(t, s, k) for t, s, k in self._heap if self._seq.get(k) == s]
                heapq.heapify(self._heap)
        if earliest is None or at < earliest:
            self._wake()

    def forget(self, key: K) -> None:
        with self._lock:
            self.due.pop(key, None)
            self._seq.pop(key, None)

    def _wake(self) -> None:
        if self._loop is not None and self._changed is not None:
            self._loop.call_soon_threadsafe(self._changed.set)

    def pop_due(self, now: float) -> tuple[list[K], float | None]:
        """The keys due by `now`, in due order (they leave), and the next due time after."""
        expired: list[K] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                _, seq, key = heapq.heappop(self._heap)
                if self._seq.get(key) == seq:
                    expired.append(key)
                    del self.due[key], self._seq[key]
            while self._heap and self._seq.get(self._heap[0][2]) != self._heap[0][1]:
                heapq.heappop(self._heap)
            return expired, self._heap[0][0] if self._heap else None

    async def run(self, on_due: Callable[[K], Awaitable[None]]) -> None:
        """Until cancelled: at each due time, `on_due(key)` as a task of its own (started
        in due order). A callback that fails is called again RETRY_SECONDS later, unless
        the key was scheduled again meanwhile."""
        self._loop, self._changed = asyncio.get_running_loop(), asyncio.Event()
        try:
            while True:
                self._changed.clear()
                expired, upcoming = self.pop_due(self.clock())
                for key in expired:
                    task = asyncio.create_task(self._call(on_due, key))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                timeout = None if upcoming is None else max(0.0, upcoming - self.clock())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=timeout)
        finally:
            for task in self._running:
                task.cancel()

    async def _call(self, on_due: Callable[[K], Awaitable[None]], key: K) -> None:
        try:
            await on_due(key)
        except Exception:
            log.exception("%s of %s; trying again in %gs", self.name, key, RETRY_SECONDS)
            with self._lock:
                rescheduled = key in self.due
            if not rescheduled:
                self.schedule(key, self.clock() + RETRY_SECONDS)
