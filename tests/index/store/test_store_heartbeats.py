"""Many runs' heartbeats written at once (the operator's batch): forward only, a run
not in the index left out, nothing else of the run touched."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from tracker.domain.records import RunRecord
from tracker.store import runs

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)


def test_heartbeats_of_many_runs_move_forward_in_one_write(session: Session, add_run: Callable[..., RunRecord]) -> None:
    beating = add_run(last_heartbeat_at=T0, state="Running", phase="Running")
    never = add_run()
    ahead = add_run(last_heartbeat_at=T0 + timedelta(hours=1))
    runs.record_heartbeats(
        session,
        heartbeats={
            beating.id: T0 + timedelta(seconds=30),
            never.id: T0 + timedelta(seconds=40),
            ahead.id: T0 + timedelta(seconds=50),  # older than the index's: kept as it is
            "no-such-run": T0,
        },
    )
    session.commit()
    assert runs.get_run(session, ref=beating.id) == dataclasses.replace(
        beating, last_heartbeat_at=T0 + timedelta(seconds=30)
    )
    assert runs.get_run(session, ref=never.id).last_heartbeat_at == T0 + timedelta(seconds=40)  # type: ignore[union-attr]
    assert runs.get_run(session, ref=ahead.id).last_heartbeat_at == T0 + timedelta(hours=1)  # type: ignore[union-attr]
    assert runs.get_run(session, ref="no-such-run") is None
    runs.record_heartbeats(session, heartbeats={})
