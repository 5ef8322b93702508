"""Start deadlines of Enqueued lifecycle jobs, and a task that wakes at the earliest one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)
Key = tuple[str, str]
RETRY_SECONDS = 5.0


@dataclass
class StartDeadlines:
    """Deadlines by (namespace, name), and `run`, which calls back at each one.

    Fed from the lifecycle jobs' watch events (handler threads), so an operator that
    restarts finds every deadline again in its first listing.
    """

    due: dict[Key, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def watch(self, key: Key, at: float) -> None:
        with self._lock:
            if self.due.get(key) == at:
                return
            self.due[key] = at
        self._wake()

    def forget(self, key: Key) -> None:
        with self._lock:
            self.due.pop(key, None)

    def _wake(self) -> None:
        if self._loop is not None and self._changed is not None:
            self._loop.call_soon_threadsafe(self._changed.set)

    async def run(self, on_due: Callable[[Key], None]) -> None:
        """Until cancelled: at each deadline, `on_due(key)` (in a thread)."""
        self._loop, self._changed = asyncio.get_running_loop(), asyncio.Event()
        while True:
            self._changed.clear()
            with self._lock:
                now = time.time()
                expired = [key for key, at in self.due.items() if at <= now]
                for key in expired:
                    del self.due[key]
                upcoming = min(self.due.values(), default=None)
            for key in expired:
                try:
                    await asyncio.to_thread(on_due, key)
                except Exception:
                    log.exception("start deadline of lifecycle job %s/%s; trying again", *key)
                    self.watch(key, time.time() + RETRY_SECONDS)
            timeout = None if upcoming is None else max(0.0, upcoming - time.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=timeout)
