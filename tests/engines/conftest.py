"""The engines tier: real workflow engines run real WDL against a `tracker-api`
process of the tier's own (static tokens, runs written to an SQLite index)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from enginekit import CPU_HOUR, TOKEN, USER
from fixtures.trackerapi import Api, serve


@pytest.fixture(scope="session")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    state = tmp_path_factory.mktemp("engines-api")
    server = serve(
        f"sqlite:///{state / 'index.db'}",
        state,
        TRACKER_API__AUTH_MODE="token",
        TRACKER_API__TOKENS=json.dumps({TOKEN: USER}),
        TRACKER_TOWER__DEFAULT_NAMESPACE="wdl",
        # a dollar per CPU-millisecond: the tier's runs last milliseconds, their cost shows in dollars
        TRACKER_COMPUTE_PRICES__CPU_HOUR=str(CPU_HOUR),
        TRACKER_COMPUTE_PRICES__GIB_HOUR="0",
    )
    yield server
    server.process.stop()
