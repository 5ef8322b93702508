"""Session fixtures for the test tiers: each real component lives in its own plugin.

This file knows where the checkout is (it lives in it): it names it to the harness
(`LOCALCLUSTER_REPO`, inherited by every process the tests start), and it fails the
collection when a test's directory and its markers disagree (`fixtures.tiers`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixtures.tiers import NO_SERVER, SERVER_PLUGINS, disagreement

from localcluster.repo import ENV as REPO_ENV

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
os.environ[REPO_ENV] = str(REPO_ROOT)

pytest_plugins = [
    "fixtures.controlplane",
    "fixtures.nodeagent",
    "fixtures.s3",
    "fixtures.postgres",
    "fixtures.tracker",
    "fixtures.faultproxy",
    "fixtures.image",
    "fixtures.localsystem",
    "fixtures.chromium",
]


def _server_fixtures(item: pytest.Item) -> set[str]:
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions is None:
        return set()
    return {
        name
        for name, defs in definitions.name2fixturedefs.items()
        if name not in NO_SERVER and any(d.func.__module__ in SERVER_PLUGINS for d in defs)
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problems = []
    for item in items:
        try:
            tier = item.path.resolve().relative_to(TESTS).parts[0]
        except ValueError:
            continue
        why = disagreement(tier, {m.name for m in item.iter_markers()}, _server_fixtures(item))
        if why:
            problems.append(f"{item.nodeid}: {why}")
    if problems:
        raise pytest.UsageError("tests in the wrong tier:\n  " + "\n  ".join(problems))
