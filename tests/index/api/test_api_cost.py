"""`GET /api/v1/runs/{run}/cost` on both engines, after the recorded Nextflow runs were
reported to the trace receiver under a price model of the test's own: the succeeded
run's cost per process and in total, computed by hand from the task maps of
`tests/fixtures/nextflow/succeeded.json`; the failed and the resumed run have no
estimate, and say why; unknown and ambiguous runs are 404 and 409."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fixtures.nextflow_trace import replay
from sqlalchemy import Engine

from tracker.api.app import create_app
from tracker.domain import compute_cost
from tracker.settings import ApiSettings, ComputePriceSettings, RateSettings, Settings, TowerSettings
from tracker.store.engine import make_engine, migrate, session_factory

TOKEN = "alice-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# the default is never used: every task runs on awsbatch, STAR_ALIGN (task 6) on an m5.2xlarge
PRICES = ComputePriceSettings(
    cpu_hour=100.0,
    gib_hour=100.0,
    executors={"awsbatch": RateSettings(cpu_hour=5.0, gib_hour=0.5)},
    machine_types={"m5.2xlarge": RateSettings(cpu_hour=2.4, gib_hour=0.3)},
)
MACHINE_TYPE = {
    '"nativeId": "f3e2d1c0-0006", "executor": "awsbatch", "machineType": null': (
        '"nativeId": "f3e2d1c0-0006", "executor": "awsbatch", "machineType": "m5.2xlarge"'
    )
}
H = 3_600_000  # ms per hour
# realtime (ms), CPUs, GiB requested of each billed attempt (task 1, FASTQC, is cached)
FASTQC = [(208_800, 2, 6)]
TRIMGALORE = [(78_800, 2, 6), (308_800, 2, 6), (268_800, 2, 12)]  # the first was retried
STAR_ALIGN = [(458_800, 8, 32)]


def cost(attempts: list[tuple[int, int, int]], cpu: float, gib: float) -> float:
    return sum(ms / H * (cpus * cpu + mem * gib) for ms, cpus, mem in attempts)


def _app(engine: Engine) -> Any:
    settings = Settings(
        database_url="sqlite://",
        api=ApiSettings(auth_mode="token", tokens={TOKEN: "alice"}),
        tower=TowerSettings(default_namespace="lab"),
        compute_prices=PRICES,
    )
    return create_app(settings, session_factory(engine, readonly=True), write_sessions=session_factory(engine))


@pytest.fixture
def reported(db_url: str) -> Iterator[TestClient]:
    engine = make_engine(db_url)
    migrate(engine)
    with TestClient(_app(engine)) as test_client:
        replay(test_client, "succeeded", TOKEN, substitute=MACHINE_TYPE)
        replay(test_client, "failed", TOKEN)
        replay(test_client, "resumed", TOKEN)
        yield test_client
    engine.dispose()


def test_the_succeeded_run_costs_what_its_task_maps_say(reported: TestClient) -> None:
    answer = reported.get("/api/v1/runs/sad_einstein/cost", headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["estimated"], body["reason"], body["currency"]) == (True, None, "USD")
    assert body["prices"]["machineTypes"] == {"m5.2xlarge": {"cpuHour": 2.4, "gibHour": 0.3}}
    by_process = {p["process"].split(":")[-1]: p for p in body["processes"]}
    expected = {
        "FASTQC": cost(FASTQC, 5.0, 0.5),  # 0.754
        "TRIMGALORE": cost(TRIMGALORE, 5.0, 0.5),  # 2.5943
        "STAR_ALIGN": cost(STAR_ALIGN, 2.4, 0.3),  # 3.6704
    }
    assert {name: p["cost"] for name, p in by_process.items()} == pytest.approx(expected)
    assert [p["process"].split(":")[-1] for p in body["processes"]] == ["STAR_ALIGN", "TRIMGALORE", "FASTQC"]
    total = body["total"]
    assert total["cost"] == pytest.approx(sum(expected.values()))  # 7.0187
    assert (total["attempts"], total["cached"], total["billed"], total["unsuccessful"]) == (6, 1, 5, 1)
    assert total["unsuccessfulCost"] == pytest.approx(cost(TRIMGALORE[:1], 5.0, 0.5))
    # every attempt used 1.873 CPUs (pcpu 187.3) and peaked at 1.5 GiB
    hours = [ms / H for ms, _, _ in FASTQC + TRIMGALORE + STAR_ALIGN]
    cpus = [c for _, c, _ in FASTQC + TRIMGALORE + STAR_ALIGN]
    gib = [g for _, _, g in FASTQC + TRIMGALORE + STAR_ALIGN]
    assert total["cpuEfficiency"] == pytest.approx(
        1.873 * sum(hours) / sum(c * h for c, h in zip(cpus, hours, strict=True))
    )
    assert total["memoryEfficiency"] == pytest.approx(
        1.5 * sum(hours) / sum(g * h for g, h in zip(gib, hours, strict=True))
    )
    assert by_process["STAR_ALIGN"]["cpuEfficiency"] == pytest.approx(1.873 / 8)
    star_h = STAR_ALIGN[0][0] / H
    assert by_process["STAR_ALIGN"]["wastedCost"] == pytest.approx((8 - 1.873) * star_h * 2.4 + 30.5 * star_h * 0.3)
    assert [name.split(":")[-1] for name in body["slowest"]] == ["STAR_ALIGN", "TRIMGALORE", "FASTQC"]
    assert [name.split(":")[-1] for name in body["mostWasteful"]] == ["STAR_ALIGN", "TRIMGALORE", "FASTQC"]


@pytest.mark.parametrize(
    ("run", "reason"), [("hungry_curie", compute_cost.NOT_SUCCEEDED), ("tiny_turing", compute_cost.RESUMED)]
)
def test_failed_and_resumed_runs_have_no_estimate(reported: TestClient, run: str, reason: str) -> None:
    body = reported.get(f"/api/v1/runs/{run}/cost", headers=AUTH).json()
    assert (body["estimated"], body["reason"]) == (False, reason)


def test_an_unknown_run_is_404_and_an_ambiguous_name_409(client: TestClient) -> None:
    unknown = client.get("/api/v1/runs/no-such-run/cost")
    assert unknown.status_code == 404
    assert "no-such-run" in unknown.json()["detail"]
    ambiguous = client.get("/api/v1/runs/twin/cost")
    assert ambiguous.status_code == 409
    assert len(ambiguous.json()["candidates"]) == 2
    namespace = ambiguous.json()["candidates"][0]["namespace"]
    chosen = client.get("/api/v1/runs/twin/cost", params={"namespace": namespace})
    assert chosen.status_code == 200
    assert chosen.json()["total"]["attempts"] == 0
