"""The read API on a seeded index, on both engines: a file SQLite database in WAL
mode, or a fresh PostgreSQL database (tests marked `postgres`). The index is seeded
through the store's repository functions, as the operator and worker fill it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_seed import TOKEN, seed
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tracker.api.app import create_app
from tracker.settings import ApiSettings, Settings
from tracker.store.engine import make_engine, migrate, session_factory


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    migrate(engine)
    seed(engine)
    yield engine
    engine.dispose()


AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(engine: Engine) -> AppFactory:
    """An app on the seeded index; keyword arguments become `Settings.api` fields.
    `writable=True` gives it read-write sessions too (notes), as `tracker-api` has."""

    def make(kube_api: Any = None, *, writable: bool = False, **api: Any) -> FastAPI:
        settings = Settings(database_url=engine.url.render_as_string(hide_password=False), api=ApiSettings(**api))
        write_sessions = session_factory(engine) if writable else None
        return create_app(
            settings, session_factory(engine, readonly=True), kube_api=kube_api, write_sessions=write_sessions
        )

    return make


@pytest.fixture
def client(make_app: AppFactory) -> Iterator[TestClient]:
    with TestClient(make_app()) as test_client:
        yield test_client


@pytest.fixture
def token_client(make_app: AppFactory) -> Iterator[TestClient]:
    with TestClient(make_app(auth_mode="token", tokens={TOKEN: "alice"})) as test_client:
        yield test_client
