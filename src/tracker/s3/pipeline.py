"""Streaming helpers for the S3 operations: bounded concurrency over lazy listings.

Nothing here talks to S3. `run_bounded` works through an iterator with a bounded
thread pool, pulling items only as threads free up, so memory stays bounded whatever
the listing's length; `hold_back_last`, `chunks` and `pair_by_key` reshape listings
(pages of keys) on the way through without holding more than a page or two.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")
D = TypeVar("D")


def run_bounded(items: Iterable[T], work: Callable[[T], R], *, in_flight: int, on_result: Callable[[R], None]) -> None:
    """Run `work` on each item, `in_flight` at a time, pulling items lazily.

    An item is pulled, then waits for a free thread, so at most `in_flight + 1` items
    are held. `on_result` runs in the calling thread for every finished item. The first
    exception stops the pulling; work already started is finished and passed to
    `on_result` before that exception is raised.
    """
    if in_flight < 1:
        raise ValueError("in_flight must be at least 1")
    iterator = iter(items)
    errors: list[Exception] = []
    pending: set[Future[R]] = set()

    def harvest(done: Iterable[Future[R]]) -> None:
        for future in done:
            try:
                on_result(future.result())
            except Exception as error:
                errors.append(error)

    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="s3-batch") as pool:
        try:
            for item in iterator:
                while len(pending) >= in_flight:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    harvest(done)
                if errors:
                    break
                pending.add(pool.submit(work, item))
                done = {future for future in pending if future.done()}
                pending -= done
                harvest(done)
                if errors:
                    break
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            done, pending = wait(pending)
            harvest(done)
            unreported = errors if sys.exc_info()[1] is not None else errors[1:]
            for error in unreported:
                log.error("also failed: %s", error)
    if errors:
        raise errors[0]


def hold_back_last(pages: Iterable[list[T]]) -> Iterator[list[T]]:
    """The same items in the same order, but each page's last item rides with the next page."""
    carry: list[T] = []
    for page in pages:
        if not page:
            continue
        batch, carry = carry + page[:-1], page[-1:]
        if batch:
            yield batch
    if carry:
        yield carry


def pair_by_key(
    sources: Iterable[tuple[str, S]], destinations: Iterable[tuple[str, D]]
) -> Iterator[tuple[str, S, D | None]]:
    """Merge two listings sorted by key: each source with the destination of the same key, if any."""
    remaining = iter(destinations)
    current = next(remaining, None)
    last_source = last_destination = None
    for key, item in sources:
        if last_source is not None and key <= last_source:
            raise ValueError(f"source listing out of order at {key!r}")
        last_source = key
        while current is not None and current[0] < key:
            last_destination, current = current[0], next(remaining, None)
            if current is not None and current[0] <= last_destination:
                raise ValueError(f"destination listing out of order at {current[0]!r}")
        yield key, item, current[1] if current is not None and current[0] == key else None


def chunks(items: Iterable[S], size: int) -> Iterator[list[S]]:
    batch: list[S] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
