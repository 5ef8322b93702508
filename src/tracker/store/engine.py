"""Engines, sessions and migrations of the index.

SQLite (the embedded default) gets WAL, a busy timeout, foreign keys and
`synchronous=NORMAL` on every connection, and SQLAlchemy emits the BEGIN itself:
`BEGIN IMMEDIATE` for read-write sessions (a writer waits for the write lock up front
instead of failing on a lock upgrade), a plain deferred `BEGIN` for read-only ones,
which never block or wait for the writer under WAL. PostgreSQL goes through psycopg 3.

Migrations run only when `migrate()` is called (a startup step), never at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

MIGRATIONS = Path(__file__).with_name("migrations")
READONLY = "tracker_readonly"  # our execution option: a deferred BEGIN on SQLite
_MIGRATION_LOCK = 7_355_608  # pg_advisory_xact_lock key: replicas migrate one at a time


def make_engine(url: str, *, busy_timeout: float = 30.0, echo: bool = False) -> Engine:
    """An engine for `sqlite:///path`, `sqlite://` (in memory) or `postgresql://...`."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, busy_timeout=busy_timeout, echo=echo)
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, echo=echo)
    raise ValueError(f"unsupported database URL {parsed!r}: use sqlite:// or postgresql://")


def _sqlite_engine(url: URL, *, busy_timeout: float, echo: bool) -> Engine:
    memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"echo": echo}
    if memory:
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif url.database:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    timeout_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            if not memory:
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = bool(conn.get_execution_options().get(READONLY, False))
        conn.exec_driver_sql(f"PRAGMA query_only = {int(readonly)}")  # pooled: set every time
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine, *, readonly: bool = False) -> sessionmaker[Session]:
    """Sessions on `engine`. `readonly=True` for request handlers that only read: a
    READ ONLY transaction on PostgreSQL; on SQLite a deferred one with `query_only`."""
    bind = engine
    if readonly:
        options: dict[str, Any] = {READONLY: True}
        if engine.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        bind = engine.execution_options(**options)
    return sessionmaker(bind=bind, expire_on_commit=False)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (Alembic `upgrade`), in one transaction.

    On SQLite foreign keys are off while migrating (a pragma that only takes effect
    outside a transaction): a batch migration rebuilds a table by dropping it, which
    would otherwise cascade to its child rows. The foreign keys are checked before the
    transaction commits."""
    config = alembic_config()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
                if sqlite and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(f"migrating to {revision} broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]
