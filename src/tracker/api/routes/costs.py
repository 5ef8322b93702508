"""`/runs/{run}/cost`: a run's estimated compute cost and resource efficiency from its
task attempts in the index, under the configured price model. The Run Detail page's
Cost & Performance tab and Cost card read it through `estimated_cost`."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter
from sqlalchemy.orm import Session

from tracker.api import errors, paths, schemas
from tracker.api.deps import Namespace, SessionDep, SettingsDep
from tracker.api.routes.runs import RunRef, resolve_run
from tracker.domain import compute_cost
from tracker.domain.records import Phase
from tracker.settings import Settings
from tracker.store import runs, task_costs

router = APIRouter(prefix=paths.API, tags=["runs"])


@router.get(paths.RUN_COST, response_model=schemas.RunCost, responses=errors.responses(404, 409, 422))
def get_run_cost(
    run: RunRef, session: SessionDep, settings: SettingsDep, namespace: Namespace = None
) -> schemas.RunCost:
    """The run's estimated compute cost per process and in total, CPU and memory
    efficiency, and the slowest and most wasteful processes. `estimated` is false, with
    a `reason`, unless the run succeeded and was never resumed."""
    return run_cost(run, session, settings, namespace)


def run_cost(run: str, session: Session, settings: Settings, namespace: str | None = None) -> schemas.RunCost:
    """The answer of `GET /runs/{run}/cost`."""
    record = resolve_run(session, run, namespace)
    report, prices = _estimate(record.id, session, settings)
    reason = compute_cost.why_not_estimated(
        succeeded=record.phase == Phase.SUCCEEDED.value,
        resumed=bool(runs.run_executions(session, run_id=record.id)),
        has_tasks=report.total.attempts > 0,
    )
    return _answer(record.id, report, prices, reason)


def estimated_cost(run_id: str, session: Session, settings: Settings) -> schemas.RunCost:
    """The same answer for a run the caller already found to have an estimate (the Run
    Detail page: it has the run and its executions), without looking them up again."""
    report, prices = _estimate(run_id, session, settings)
    return _answer(run_id, report, prices, None)


def _estimate(
    run_id: str, session: Session, settings: Settings
) -> tuple[compute_cost.CostReport, compute_cost.ComputePrices]:
    prices = settings.compute_prices.to_domain()
    return compute_cost.estimate(task_costs.cost_inputs(session, run_id=run_id), prices), prices


def _answer(
    run_id: str, report: compute_cost.CostReport, prices: compute_cost.ComputePrices, reason: str | None
) -> schemas.RunCost:
    return schemas.RunCost(
        run_id=run_id,
        estimated=reason is None,
        reason=reason,
        prices=price_model(prices),
        total=line(report.total),
        processes=[line(p) for p in report.processes],
        slowest=[p.process for p in report.slowest],
        most_wasteful=[p.process for p in report.most_wasteful],
    )


def line(cost: compute_cost.CostLine) -> schemas.CostLine:
    return schemas.CostLine(
        **asdict(cost),
        mean_ms=cost.mean_ms,
        cpu_efficiency=cost.cpu_efficiency,
        memory_efficiency=cost.memory_efficiency,
    )


def price_model(prices: compute_cost.ComputePrices) -> schemas.PriceModel:
    def rate(r: compute_cost.Rate) -> schemas.Rate:
        return schemas.Rate(cpu_hour=r.cpu_hour, gib_hour=r.gib_hour)

    return schemas.PriceModel(
        default=rate(prices.default),
        executors={k: rate(v) for k, v in prices.executors.items()},
        machine_types={k: rate(v) for k, v in prices.machine_types.items()},
    )
