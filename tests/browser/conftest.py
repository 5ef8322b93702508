"""Browser tests: the real `tracker-api` console script on a free loopback port over a
seeded SQLite index, and one headless Chromium (Debian's, never a downloaded one)
driven by Playwright (`fixtures.chromium`), both started once per session; a fresh browser context (tab)
per test, at laptop or phone width."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from browser_seed import report_timeline_run, seed, seed_long_names
from browserkit import (
    BROWSER_TOKEN,
    BROWSER_USER,
    HD_LAPTOP,
    LAPTOP,
    PHONE,
    REPORTED_RUNS,
    Api,
    open_tab,
    reporting_api,
    serve,
)
from playwright.sync_api import Browser, Page
from sqlalchemy.engine import Engine

from tracker.store.engine import make_engine, migrate


def seeded_index(tmp_path_factory: pytest.TempPathFactory, name: str, fill: Callable[[Engine], object]) -> str:
    """A fresh SQLite index, migrated and filled by `fill`; its URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp(f'{name}-index') / 'tracker.db'}"
    engine = make_engine(url)
    try:
        migrate(engine)
        fill(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return seeded_index(tmp_path_factory, "browser", seed)


@pytest.fixture(scope="session")
def long_names_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API over an index of runs with long names, owners, namespaces and clusters."""
    url = seeded_index(tmp_path_factory, "long-names", seed_long_names)
    server = serve(url, tmp_path_factory.mktemp("long-names-api"), TRACKER_API__AUTH_MODE="none")
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def timeline_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API (pages open, the trace receiver with static tokens) into which one run of
    about 2,000 task attempts, still running, was reported through the receiver."""
    url = seeded_index(tmp_path_factory, "timeline", lambda engine: None)
    server = serve(
        url,
        tmp_path_factory.mktemp("timeline-api"),
        TRACKER_API__AUTH_MODE="none",
        TRACKER_TOWER__AUTH_MODE="token",
        TRACKER_API__TOKENS=json.dumps({BROWSER_TOKEN: BROWSER_USER}),
        TRACKER_TOWER__DEFAULT_NAMESPACE="genomics",
    )
    try:
        report_timeline_run(server.url, BROWSER_TOKEN)
    except BaseException:
        server.process.stop()
        raise
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API without authentication (`auth_mode: none`)."""
    server = serve(database_url, tmp_path_factory.mktemp("api"), TRACKER_API__AUTH_MODE="none")
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def token_api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API with static tokens (`auth_mode: token`)."""
    server = serve(
        database_url,
        tmp_path_factory.mktemp("token-api"),
        TRACKER_API__AUTH_MODE="token",
        TRACKER_API__TOKENS=json.dumps({BROWSER_TOKEN: BROWSER_USER}),
    )
    yield server
    server.process.stop()


@pytest.fixture(scope="session")
def reported_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API (static tokens) over an empty index into which the recorded Nextflow
    runs (`REPORTED_RUNS`: succeeded, failed, resumed) were reported through its own
    trace receiver, over HTTP, as `nextflow -with-tower` sends them; signed in as
    `BROWSER_USER` they are that user's runs in namespace `lab`."""
    url = seeded_index(tmp_path_factory, "reported", lambda engine: None)
    server = reporting_api(url, tmp_path_factory.mktemp("reported-api"), ((v, None) for v in REPORTED_RUNS))
    yield server
    server.process.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh laptop-width tab (1280 px); script errors, CSP violations and missing
    static files fail the test."""
    yield from open_tab(browser, LAPTOP)


@pytest.fixture
def hd_laptop(browser: Browser) -> Iterator[Page]:
    """A fresh tab of a common 1,366 x 768 laptop screen."""
    yield from open_tab(browser, HD_LAPTOP)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A fresh phone-width tab (390 px, touch)."""
    yield from open_tab(browser, PHONE, is_mobile=True, has_touch=True)
