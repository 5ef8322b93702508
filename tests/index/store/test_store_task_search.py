"""Searching a run's task attempts and the per-process aggregates, on both engines:
a literal substring of the name, tag or hash (ASCII case ignored, `%` `_` `\\` plain
characters, bounded length), the processes a run's attempts belong to, and one
process's counts, durations (min / median / max), resources and bytes, computed over
the attempts the run executed."""

from __future__ import annotations

import statistics

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.tasks import TaskRecord, TaskStatus
from tracker.store import tasks, taskstats

RUN = "0b0e2a47-2c53-4c8e-9d4c-7fa0b1c2d3e4"
FASTQC, TRIM = "NF:RNASEQ:FASTQC", "NF:RNASEQ:TRIMGALORE"
GIB = 1 << 30


def attempt(task_id: int, process: str, status: TaskStatus = TaskStatus.COMPLETED, **kw: object) -> TaskRecord:
    return TaskRecord(execution="w1", task_id=task_id, status=status, process=process, **kw)  # type: ignore[arg-type]


SEEDED = [
    attempt(1, FASTQC, TaskStatus.CACHED, name="FASTQC (sample_1)", tag="sample_1", hash="3a/7f2b1c",
            duration_ms=999_000, cpus=2, memory_bytes=6 * GIB, pcpu=400.0, peak_rss=6 * GIB, read_bytes=7),
    attempt(2, FASTQC, name="FASTQC (sample_2)", tag="sample_2", hash="9c/41d0e2", duration_ms=240_000,
            realtime_ms=208_800, cpus=2, memory_bytes=6 * GIB, pcpu=187.3, peak_rss=GIB, read_bytes=4 * GIB,
            write_bytes=GIB),
    attempt(3, TRIM, TaskStatus.RETRIED, name="TRIM (100%_done)", tag="100%_done", hash="5e/aa01b7",
            duration_ms=110_000, cpus=2, memory_bytes=6 * GIB, pcpu=100.0, peak_rss=3 * GIB, exit_code=137),
    attempt(4, TRIM, name="TRIM (a\\b)", tag="a\\b", hash="6f/bb12c8", duration_ms=350_000, cpus=4,
            memory_bytes=12 * GIB, pcpu=300.0, peak_rss=3 * GIB),
    attempt(5, TRIM, name="TRIM (sample_1)", tag="sample_1", hash="d2/c3e4f5", attempt=2, duration_ms=299_000,
            cpus=2, memory_bytes=12 * GIB, pcpu=50.0, peak_rss=GIB),
    attempt(6, TRIM, TaskStatus.RUNNING, name="TRIM (Sample_9)", tag="Sample_9", hash="aa/000000"),
]  # fmt: skip


@pytest.fixture
def seeded(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with factory.begin() as session:
        tasks.upsert_tasks(session, run_id=RUN, tasks=SEEDED)
        tasks.upsert_tasks(session, run_id="another-run", tasks=[attempt(1, FASTQC, name="FASTQC (sample_1)")])
    return factory


def found(session: Session, search: str, **kw: object) -> list[int]:
    page, total = tasks.list_tasks(session, run_id=RUN, search=search, **kw)  # type: ignore[arg-type]
    assert total == len(page)
    return [t.task_id for t in page]


def test_search_matches_name_tag_or_hash_literally(seeded: sessionmaker[Session]) -> None:
    with seeded() as session:
        assert found(session, "sample_1") == [1, 5]
        assert found(session, "SAMPLE_") == [1, 2, 5, 6]  # ASCII case ignored
        assert found(session, "  7f2b  ") == [1]  # a hash substring, surrounding spaces dropped
        assert found(session, "9c/41d0e2") == [2]
        assert found(session, "%") == [3]  # wildcards are plain characters
        assert found(session, "0%_d") == [3]
        assert found(session, "_") == [1, 2, 3, 5, 6]
        assert found(session, "a\\b") == [4]
        assert found(session, "sample%1") == []
        assert found(session, "") == [1, 2, 3, 4, 5, 6]
        assert found(session, "sample", process=TRIM, status=["COMPLETED"], sort="-task_id") == [5]
        with pytest.raises(ValueError, match="at most 200 characters"):
            tasks.list_tasks(session, run_id=RUN, search="x" * 201)


def test_process_names_are_those_of_the_runs_attempts(seeded: sessionmaker[Session]) -> None:
    with seeded() as session:
        assert taskstats.process_names(session, run_id=RUN) == [FASTQC, TRIM]
        assert taskstats.process_names(session, run_id="no-such-run") == []


def test_process_stats_over_the_executed_attempts(seeded: sessionmaker[Session]) -> None:
    with seeded() as session:
        assert taskstats.process_stats(session, run_id=RUN, process="NF:NOPE") is None
        trim = taskstats.process_stats(session, run_id=RUN, process=TRIM)
        fastqc = taskstats.process_stats(session, run_id=RUN, process=FASTQC)
    assert trim is not None
    assert fastqc is not None
    assert dict(trim.by_status) == {"RETRIED": 1, "COMPLETED": 2, "RUNNING": 1}
    assert (trim.attempts, trim.tasks, trim.retried, trim.retry_attempts, trim.max_attempt) == (4, 3, 1, 1, 2)
    assert (trim.duration.count, trim.duration.low, trim.duration.median, trim.duration.high) == (
        3,
        110_000,
        299_000,
        350_000,
    )
    assert trim.realtime.count == 0
    assert trim.realtime.median is None
    assert (trim.cpus_low, trim.cpus_high, trim.memory_low, trim.memory_high) == (2, 4, 6 * GIB, 12 * GIB)
    assert trim.pcpu_mean == pytest.approx(150.0)
    assert trim.pcpu_max == pytest.approx(300.0)
    assert trim.cpu_share == pytest.approx(statistics.mean([100 / 200, 300 / 400, 50 / 200]))
    assert trim.peak_rss_max == 3 * GIB
    assert trim.peak_rss_mean == pytest.approx(7 * GIB / 3)
    assert trim.memory_share == pytest.approx(0.5)
    assert trim.read_bytes is None
    assert trim.write_bytes is None
    # the cached attempt is counted by status, not in durations or resources
    assert (fastqc.attempts, fastqc.cached, fastqc.executed) == (2, 1, 1)
    assert (fastqc.duration.low, fastqc.duration.median, fastqc.duration.high) == (240_000, 240_000, 240_000)
    assert fastqc.realtime.median == 208_800
    assert (fastqc.pcpu_max, fastqc.peak_rss_max, fastqc.read_bytes, fastqc.write_bytes) == (187.3, GIB, 4 * GIB, GIB)


def test_the_median_of_an_even_count_is_the_mean_of_the_middle_two(factory: sessionmaker[Session]) -> None:
    durations = [7, 1, 5, 3, 100, 2]
    with factory.begin() as session:
        tasks.upsert_tasks(
            session, run_id=RUN, tasks=[attempt(i, FASTQC, duration_ms=d) for i, d in enumerate(durations)]
        )
    with factory() as session:
        stats = taskstats.process_stats(session, run_id=RUN, process=FASTQC)
    assert stats is not None
    assert (stats.duration.low, stats.duration.median, stats.duration.high) == (1, statistics.median(durations), 100)
