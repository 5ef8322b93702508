"""Bulk indexing speed and memory: 200,000 rows upserted from a generator, the rate
printed (run with -s to see it) and held to a floor far below what we measure."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.records import OutputObject, RunRecord
from tracker.store import outputs, runs

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)
ROWS = 200_000


def published(run: int, count: int) -> Iterator[OutputObject]:
    for i in range(count):
        yield OutputObject(
            f"s3://bucket-prod/projects/proj-{run % 17}/run-{run}/results/sample_{i:07d}/align/"
            f"Sample_{i:07d}.sorted.bam",
            1_000_000 + i,
            T0,
            f'"{i:032x}"',
            "INTELLIGENT_TIERING",
        )


def add_run(factory: sessionmaker[Session], run_id: str) -> RunRecord:
    run = RunRecord(
        id=run_id,
        namespace="ns",
        name=run_id,
        run_name=run_id,
        owner="alice",
        output_dir="s3://bucket-prod/projects/proj-0/run-0/",
    )
    with factory.begin() as session:
        runs.upsert_run(session, record=run)
    return run


def test_upserting_200k_rows(factory: sessionmaker[Session], db_url: str) -> None:
    run = add_run(factory, "bulk")
    rates = []
    for label in ("insert", "re-upsert"):
        started = time.perf_counter()
        with factory.begin() as session:
            assert outputs.upsert_outputs(session, run_id=run.id, objects=published(0, ROWS)) == ROWS
        rates.append(ROWS / (time.perf_counter() - started))
        print(f"\n{db_url.split(':')[0]}: {label} {ROWS} rows: {rates[-1]:,.0f} rows/s")
    with factory() as session:
        summary = outputs.refresh_outputs_summary(session, run_id=run.id, indexed_at=T0)
        assert summary.count == ROWS
        started = time.perf_counter()
        found = outputs.lookup_runs_by_url(session, text="SAMPLE_0123456.sorted")
        print(f"lookup among {ROWS} rows: {(time.perf_counter() - started) * 1000:.1f} ms")
        assert [r.id for r in found] == [run.id]
    assert min(rates) > 2_000  # measured: tens of thousands per second


def test_memory_stays_bounded_by_the_batch(factory: sessionmaker[Session]) -> None:
    run = add_run(factory, "memory")
    with factory.begin() as session:
        outputs.upsert_outputs(session, run_id=run.id, objects=published(1, 2_000))  # warm caches
        tracemalloc.start()
        try:
            outputs.upsert_outputs(session, run_id=run.id, objects=published(2, 30_000), batch_size=1000)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for 30,000 rows"
