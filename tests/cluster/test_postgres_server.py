"""The local PostgreSQL server: SQL through SQLAlchemy, pg_trgm, and a clean stop."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from localcluster.postgres import PostgresServer

pytestmark = pytest.mark.postgres


def test_create_insert_and_read_back(postgres_database: str) -> None:
    engine = sa.create_engine(postgres_database)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE runs (id serial PRIMARY KEY, name text NOT NULL)"))
            conn.execute(sa.text("INSERT INTO runs (name) VALUES (:n)"), [{"n": "a"}, {"n": "b"}])
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, name FROM runs ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "a"), (2, "b")]


def test_pg_trgm_index_serves_substring_search(postgres_database: str) -> None:
    search = sa.text("SELECT key FROM outputs WHERE key ILIKE '%sample-1234.%'")
    engine = sa.create_engine(postgres_database)
    try:
        with engine.begin() as conn:
            for statement in (
                "CREATE EXTENSION pg_trgm",
                "CREATE TABLE outputs (key text NOT NULL)",
                "CREATE INDEX outputs_key_trgm ON outputs USING gin (key gin_trgm_ops)",
                "INSERT INTO outputs SELECT 'runs/r' || i || '/sample-' || i || '.bam' FROM generate_series(1, 2000) i",
                "ANALYZE outputs",
                "SET LOCAL enable_seqscan = off",
            ):
                conn.execute(sa.text(statement))
            plan = "\n".join(conn.execute(sa.text(f"EXPLAIN {search.text}")).scalars())
            found = conn.execute(search).scalars().all()
    finally:
        engine.dispose()
    assert "outputs_key_trgm" in plan
    assert found == ["runs/r1234/sample-1234.bam"]


def test_create_database_rejects_names_that_need_quoting(postgres_server: PostgresServer) -> None:
    with pytest.raises(ValueError, match="not a plain database name"):
        postgres_server.create_database('x"; DROP DATABASE postgres; --')


def test_server_runs_fast_and_unprivileged_then_stops_completely() -> None:
    server = PostgresServer().start()
    pid, data_dir = server.pid, server.data_dir
    try:
        with server.connect() as conn:
            settings = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in ("fsync", "synchronous_commit", "full_page_writes", "listen_addresses")
            }
            assert settings == {
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "listen_addresses": "127.0.0.1",
            }
        assert (data_dir / f".s.PGSQL.{server.port}").is_socket()
        assert Path(f"/proc/{pid}").stat().st_uid != 0
    finally:
        server.stop()

    assert not server.process.running()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the postmaster's whole group, backends included
    assert not data_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", connect_timeout=2)
