"""A conflicting status write waits a little longer each time, with jitter (tracker.kube.status)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from tracker.kube.status import BACKOFF_BASE, BACKOFF_CAP, MAX_CONFLICTS, conflict_backoff


@given(attempt=st.integers(0, 10_000), draw=st.floats(0, 1, exclude_max=True))
def test_backoff_stays_within_its_jittered_ceiling(attempt: int, draw: float) -> None:
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempt, 16))
    assert ceiling / 2 <= conflict_backoff(attempt, lambda: draw) <= ceiling


def test_backoff_grows_then_caps_and_never_busy_loops() -> None:
    lows = [conflict_backoff(a, lambda: 0.0) for a in range(MAX_CONFLICTS)]
    assert lows[0] > 0
    assert all(later >= earlier for earlier, later in itertools.pairwise(lows))
    assert lows[1] == 2 * lows[0]
    assert lows[-1] == BACKOFF_CAP / 2
    assert conflict_backoff(3, lambda: 0.0) != conflict_backoff(3, lambda: 0.99)  # jitter
