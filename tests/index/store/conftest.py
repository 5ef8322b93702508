"""One body of store tests, run on both engines: `db_url` is a file SQLite database
in WAL mode, or a fresh PostgreSQL database (tests marked `postgres`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.records import RunRecord
from tracker.store import runs
from tracker.store.engine import make_engine, migrate, session_factory

T0 = datetime(2026, 5, 13, 19, 0, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session:
        yield session


@pytest.fixture
def add_run(session: Session) -> Callable[..., RunRecord]:
    """Upsert a run built from keyword overrides (unique id and run name by default)."""
    counter = iter(range(1, 10**6))

    def add(**fields: Any) -> RunRecord:
        n = next(counter)
        defaults: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "namespace": "default",
            "name": f"wfr-{n}",
            "run_name": f"run-{n}",
            "owner": "alice",
            "created_at": T0 + timedelta(minutes=n),
        }
        record = RunRecord(**{**defaults, **fields})
        runs.upsert_run(session, record=record)
        return record

    return add
