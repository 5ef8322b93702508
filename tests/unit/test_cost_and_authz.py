"""Storage cost (binary units, Intelligent-Tiering rates) and who may change outputs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.authz import Admins, Principals, authorize
from tracker.domain.cost import GIB, TierPrices, annual_storage_cost, human_size, usd


def test_one_tib_for_a_year() -> None:
    cost = annual_storage_cost(1024 * GIB)
    assert cost.annual_low == pytest.approx(1024 * 12 * 0.004)
    assert cost.annual_high == pytest.approx(1024 * 12 * 0.021)
    assert cost.infrequent == pytest.approx(1024 * 12 * 0.0125)


def test_prices_are_configurable() -> None:
    cost = annual_storage_cost(GIB, TierPrices(frequent=0.03, infrequent=0.02, archive_instant=0.01))
    assert (cost.annual_low, cost.annual_high) == (pytest.approx(0.12), pytest.approx(0.36))


@given(st.integers(min_value=0, max_value=2**60))
def test_range_is_ordered_and_linear(size: int) -> None:
    cost = annual_storage_cost(size)
    assert cost.annual_low <= cost.infrequent <= cost.annual_high
    assert cost.annual_high == pytest.approx(size / GIB * 12 * 0.021)


@pytest.mark.parametrize(
    ("size", "text"), [(0, "0 B"), (512, "512 B"), (1536, "1.5 KiB"), (9876543210, "9.2 GiB"), (5 * 2**40, "5.0 TiB")]
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_usd() -> None:
    assert usd(1234.5) == "$1,234.50"
    assert usd(0.001) == "<$0.01"
    assert usd(0) == "$0.00"


ADMINS = Admins(
    users=("root",), groups=("platform",), clusters={"hpc-a": Principals(users=("carol",), groups=("hpc-a-admins",))}
)


@pytest.mark.parametrize(
    ("user", "groups", "cluster", "role"),
    [
        ("alice", (), "hpc-a", "owner"),
        ("carol", (), "hpc-a", "cluster-admin"),
        ("dave", ("hpc-a-admins",), "hpc-a", "cluster-admin"),
        ("root", (), "hpc-b", "global-admin"),
        ("erin", ("platform",), None, "global-admin"),
    ],
)
def test_allowed(user: str, groups: tuple[str, ...], cluster: str | None, role: str) -> None:
    decision = authorize(
        user=user,
        groups=groups,
        action="delete outputs",
        run_name="foo-run-001",
        owner="alice",
        cluster=cluster,
        admins=ADMINS,
    )
    assert decision.allowed
    assert decision.role == role


def test_refusal_names_who_may() -> None:
    decision = authorize(
        user="carol",
        groups=(),
        action="delete outputs",
        run_name="foo-run-001",
        owner="alice",
        cluster="hpc-b",
        admins=ADMINS,
    )
    assert not decision.allowed
    assert decision.message == (
        "'carol' may not delete outputs for run 'foo-run-001': only its owner 'alice', "
        "a cluster admin of 'hpc-b' (nobody configured), "
        "or a global admin (users root; groups platform) may"
    )
