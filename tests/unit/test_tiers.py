"""The rule `tests/conftest.py` applies to every collected test: its directory and its
markers and fixtures agree (the unit tier needs no server)."""

from __future__ import annotations

from fixtures.tiers import disagreement


def test_a_unit_test_may_not_use_a_server() -> None:
    assert disagreement("unit", [], []) is None
    assert disagreement("unit", ["parametrize"], []) is None
    assert disagreement("unit", ["cluster"], []) == "a unit test needs no server, but this one uses cluster"
    assert disagreement("unit", [], ["control_plane", "s3_server"]) == (
        "a unit test needs no server, but this one uses control_plane, s3_server"
    )
    assert disagreement("unit", ["browser"], ["node_agent"]) == (
        "a unit test needs no server, but this one uses browser, node_agent"
    )


def test_only_the_postgresql_half_of_the_engine_tests_is_marked_in_the_unit_tier() -> None:
    assert disagreement("unit", ["postgres"], []) is None


def test_tests_outside_the_unit_tier_carry_their_tiers_marker() -> None:
    assert disagreement("cluster", ["cluster"], ["control_plane"]) is None
    assert disagreement("cluster", ["s3"], ["s3_server"]) is None
    assert disagreement("cluster", [], ["s3_server"]) == (
        "a test in tests/cluster must carry one of the markers cluster, minio, postgres, s3"
    )
    assert disagreement("e2e", ["cluster"], []) == "a test in tests/e2e must carry one of the markers e2e"
    assert disagreement("browser", ["browser"], []) is None
