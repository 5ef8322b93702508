"""Engines, sessions and migrations: SQLite pragmas and WAL concurrency, in-memory
databases, UTC timestamps, and migrations that match the models."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.records import RunRecord
from tracker.store import outputs, runs
from tracker.store.engine import (
    alembic_config,
    make_engine,
    migrate,
    session_factory,
)
from tracker.store.migrations import include_object
from tracker.store.models import Base

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)


def record(run_id: str, **fields: object) -> RunRecord:
    base: dict[str, object] = {"id": run_id, "namespace": "ns", "name": run_id, "run_name": run_id, "owner": "alice"}
    return RunRecord(**{**base, **fields})  # type: ignore[arg-type]


def test_sqlite_file_connections_get_wal_busy_timeout_foreign_keys_and_normal_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/sub/dir/index.db", busy_timeout=12.5)
    try:
        for _ in range(2):  # every pooled connection, not just the first
            with engine.connect() as conn:
                pragmas = {
                    name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
                }
                assert pragmas == {"journal_mode": "wal", "busy_timeout": 12500, "foreign_keys": 1, "synchronous": 1}
    finally:
        engine.dispose()
    assert (tmp_path / "sub/dir/index.db").exists()


def test_in_memory_sqlite_is_one_database_shared_by_every_session() -> None:
    engine = make_engine("sqlite://")
    migrate(engine)
    with session_factory(engine).begin() as session:
        runs.upsert_run(session, record=record("r1"))
    with session_factory(engine, readonly=True)() as session:
        assert runs.get_run(session, ref="r1") is not None


def test_postgresql_urls_use_psycopg_and_other_databases_are_refused() -> None:
    for url in ("postgresql://u@db.example/tracker", "postgresql+psycopg://u@db.example/tracker"):
        engine = make_engine(url)
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
        assert engine.pool._pre_ping  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="unsupported database URL"):
        make_engine("mysql://u@db.example/tracker")


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_nothing_is_created_before_migrate_and_migrate_is_repeatable(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
        assert current_revision(engine) is None
        migrate(engine)
        migrate(engine)
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert current_revision(engine) == head
        assert {"runs", "run_executions", "processes", "outputs", "lifecycle_jobs"} <= set(
            sa.inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_the_removed_runs_migration_keeps_every_row(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine, "0002")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO runs (id, namespace, name, run_name, owner, params, labels, conditions, created_at,"
                    " outputs_count, outputs_bytes, updated_at) VALUES ('r1', 'a', 'again', 'again', 'alice', '{}',"
                    " '{}', '[]', :t, 1, 7, :t)"
                ),
                {"t": T0},
            )
            conn.execute(sa.text("INSERT INTO outputs (run_id, url, size) VALUES ('r1', 's3://b/again/x.bam', 7)"))
            conn.execute(
                sa.text(
                    "INSERT INTO processes (run_id, name, position, succeeded, failed, aborted,"
                    " running, cached, retried, submitted, pending) VALUES"
                    " ('r1', 'ALIGN', 0, 1, 0, 0, 0, 0, 0, 0, 0)"
                )
            )
        migrate(engine)
        factory = session_factory(engine)
        with factory.begin() as session:  # the rows survived the table rebuild, search included
            found = runs.get_run(session, ref="again")
            assert found is not None
            assert [p.name for p in found.processes] == ["ALIGN"]
            assert [r.id for r in outputs.lookup_runs_by_url(session, text="AGAIN/X.BAM")] == ["r1"]
            assert runs.mark_run_removed(session, run_id="r1", at=T0)
            runs.upsert_run(session, record=record("r2", namespace="a", name="again", run_name="again"))
        with factory() as session:
            assert runs.get_run(session, ref="again").id == "r2"  # type: ignore[union-attr]
            assert runs.get_run(session, ref="r1") is not None
    finally:
        engine.dispose()


def test_models_and_migrations_agree(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_timestamps_are_stored_in_utc_and_come_back_utc_aware(factory: sessionmaker[Session]) -> None:
    plus_two = timezone(timedelta(hours=2))
    started = datetime(2026, 5, 13, 21, 2, 11, 123456, tzinfo=plus_two)
    with factory.begin() as session:
        runs.upsert_run(session, record=record("r1", started_at=started, created_at=T0))
    with factory() as session:
        found = runs.get_run(session, ref="r1")
    assert found is not None
    assert found.started_at == started
    assert found.started_at.tzinfo is UTC
    assert found.started_at.hour == 19
    assert found.created_at == T0
    assert found.created_at.tzinfo is UTC


def test_naive_timestamps_are_refused(factory: sessionmaker[Session]) -> None:
    with factory() as session, pytest.raises(StatementError, match="naive datetime"):
        runs.upsert_run(session, record=record("r1", started_at=datetime(2026, 5, 13, 19, 0)))


def test_a_reader_is_never_blocked_by_an_open_write_transaction(engine: sa.Engine) -> None:
    writer, reader = session_factory(engine)(), session_factory(engine, readonly=True)
    try:
        runs.upsert_run(writer, record=record("r1"))
        started = time.monotonic()
        with reader() as session:
            assert runs.get_run(session, ref="r1") is None  # not committed yet
        assert time.monotonic() - started < 2
        writer.commit()
        with reader() as session:
            assert runs.get_run(session, ref="r1") is not None
    finally:
        writer.close()


def test_sqlite_reader_keeps_its_snapshot_while_a_writer_commits(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/index.db")
    migrate(engine)
    with session_factory(engine).begin() as session:
        runs.upsert_run(session, record=record("r1", phase="Running"))
    with session_factory(engine, readonly=True)() as reader:
        assert runs.get_run(session=reader, ref="r1").phase == "Running"  # type: ignore[union-attr]
        with session_factory(engine).begin() as session:  # not blocked by the open reader
            runs.upsert_run(session, record=record("r1", phase="Succeeded"))
        assert runs.get_run(session=reader, ref="r1").phase == "Running"  # type: ignore[union-attr]
    with session_factory(engine, readonly=True)() as reader:
        assert runs.get_run(session=reader, ref="r1").phase == "Succeeded"  # type: ignore[union-attr]
    engine.dispose()


def test_a_second_writer_waits_for_the_first_instead_of_failing(engine: sa.Engine) -> None:
    sessions = session_factory(engine)
    first = sessions()
    runs.upsert_run(first, record=record("r1"))  # holds the write lock (SQLite) until commit
    errors: list[BaseException] = []

    def second_writer() -> None:
        try:
            with sessions.begin() as session:
                runs.upsert_run(session, record=record("r2"))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.5)
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert errors == []
    with sessions() as session:
        assert runs.get_run(session, ref="r1")
        assert runs.get_run(session, ref="r2")


def test_readonly_sessions_cannot_write_but_share_the_pool_with_writers(engine: sa.Engine) -> None:
    with session_factory(engine, readonly=True)() as session, pytest.raises(sa.exc.DBAPIError):
        runs.upsert_run(session, record=record("r1"))
    with session_factory(engine).begin() as session:  # the same pooled connection writes again
        runs.upsert_run(session, record=record("r1"))
    with session_factory(engine, readonly=True)() as session:
        assert runs.get_run(session, ref="r1") is not None
