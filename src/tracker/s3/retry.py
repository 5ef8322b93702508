"""Retrying one S3 call: throttling and 5xx backed off with jitter, beyond botocore's retries."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import ClientError

from tracker.s3.errors import denied, error_code, is_denied, is_transient

log = logging.getLogger(__name__)
R = TypeVar("R")


def backoff_delay(attempt: int, *, base: float = 0.2, cap: float = 20.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: between half and all of min(cap, base * 2**attempt)."""
    ceiling = min(cap, base * 2.0 ** min(attempt, 32))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def call_s3(fn: Callable[..., R], *, what: str, retries: int = 5, backoff_base: float = 0.2, **kwargs: object) -> R:
    """`fn(**kwargs)`, retrying throttling and 5xx beyond botocore's retries; AccessDenied mapped."""
    for attempt in range(retries + 1):
        try:
            return fn(**kwargs)
        except ClientError as error:
            if is_denied(error):
                raise denied(error, what) from error
            if not is_transient(error) or attempt == retries:
                raise
            log.warning("%s: %s, retrying", what, error_code(error))
            time.sleep(backoff_delay(attempt, base=backoff_base))
    raise AssertionError("unreachable")
