"""The engines tier: real workflow engines run real WDL against a `tracker-api`
process of the tier's own (static tokens, runs written to an SQLite index), and
Chromium tabs for the pages of the runs they report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from enginekit import tier_api
from fixtures.trackerapi import Api
from playwright.sync_api import Browser, Page

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from browserkit import LAPTOP, open_tab


@pytest.fixture(scope="session")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    server = tier_api(tmp_path_factory.mktemp("engines-api"))
    yield server
    server.process.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh laptop-width tab; page errors fail the test."""
    yield from open_tab(browser, LAPTOP)
