"""The rule `tests/conftest.py` applies to every collected test: its directory and its
markers and fixtures agree (the unit tier needs no server)."""

from __future__ import annotations

from fixtures.tiers import disagreement


def test_a_unit_test_may_not_use_a_server() -> None:
    assert disagreement("unit", [], []) is None
    assert disagreement("unit", ["parametrize"], []) is None
    assert disagreement("unit", ["cluster"], []) == "a test in tests/unit needs no server, but this one uses cluster"
    assert disagreement("unit", [], ["control_plane", "s3_server"]) == (
        "a test in tests/unit needs no server, but this one uses control_plane, s3_server"
    )
    assert disagreement("unit", ["browser"], ["node_agent"]) == (
        "a test in tests/unit needs no server, but this one uses browser, node_agent"
    )


def test_postgresql_is_the_one_server_of_the_index_tier_and_none_of_the_unit_tier() -> None:
    assert disagreement("index", ["postgres"], []) is None
    assert disagreement("index", [], []) is None
    assert disagreement("unit", ["postgres"], []) == "a test in tests/unit needs no server, but this one uses postgres"
    assert disagreement("index", ["s3"], ["s3_server"]) == (
        "a test in tests/index needs no server but PostgreSQL, but this one uses s3, s3_server"
    )


def test_tests_outside_the_unit_tier_carry_their_tiers_marker() -> None:
    assert disagreement("cluster", ["cluster"], ["control_plane"]) is None
    assert disagreement("cluster", ["s3"], ["s3_server"]) is None
    assert disagreement("cluster", [], ["s3_server"]) == (
        "a test in tests/cluster must carry one of the markers cluster, minio, postgres, s3"
    )
    assert disagreement("e2e", ["cluster"], []) == "a test in tests/e2e must carry one of the markers e2e"
    assert disagreement("browser", ["browser"], []) is None
