"""Sprocket's provenance database (`OUT_DIR/sprocket.db`), read without ever locking
the engine out: opened read-only (`mode=ro`), every read one short transaction, a
busy timeout for the moments Sprocket holds its write lock (its journal mode is
DELETE, so a reader and the writer take turns).

Only the schema this module knows is read: Sprocket's `metadata.version` 1 with the
migrations of the pinned version (`KNOWN_MIGRATIONS`); any other database is refused
with `SprocketDbError` naming what differs, never half-read.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DB_NAME = "sprocket.db"
SCHEMA_VERSION = "1"  # metadata.version, Sprocket's own
KNOWN_MIGRATIONS = frozenset(
    {
        20251108201315,  # initial
        20260808000000,  # granular run and task states
        20260808120000,  # session heartbeat and orphaned status
        20260817000000,  # task metrics: call id, attempt, constraints, retry cause
    }
)
BUSY_TIMEOUT_SECONDS = 30.0


class SprocketDbError(Exception):
    """The database cannot be read as Sprocket's; `str()` is one line for a user."""


class SprocketDbBusy(Exception):
    """Sprocket held its write lock for longer than the busy timeout: read again later."""


@dataclass(frozen=True)
class Snapshot:
    """Every session, run and task row, read in one transaction."""

    sessions: dict[int, dict[str, Any]]
    runs: list[dict[str, Any]]
    tasks: list[dict[str, Any]]


def read(out_dir: Path) -> Snapshot:
    path = out_dir / DB_NAME
    if not path.is_file():
        raise SprocketDbError(f"no Sprocket database at {path} (is OUT_DIR Sprocket's output directory?)")
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
        )
    except sqlite3.Error as error:
        raise SprocketDbError(f"cannot open {path}: {error}") from error
    connection.row_factory = sqlite3.Row
    try:
        connection.execute("begin")
        _check_schema(connection, path)
        sessions = {row["id"]: dict(row) for row in connection.execute("select * from sessions")}
        runs = [dict(row) for row in connection.execute("select * from runs order by id")]
        tasks = [dict(row) for row in connection.execute("select rowid as task_id, * from tasks order by rowid")]
        connection.execute("commit")
    except sqlite3.OperationalError as error:
        if getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise SprocketDbBusy(f"{path} stayed locked by Sprocket for {BUSY_TIMEOUT_SECONDS:.0f} s") from error
        raise SprocketDbError(f"cannot read {path} as a Sprocket database: {error}") from error
    except sqlite3.DatabaseError as error:
        raise SprocketDbError(f"cannot read {path} as a Sprocket database: {error}") from error
    finally:
        connection.close()
    return Snapshot(sessions=sessions, runs=runs, tasks=tasks)


def _check_schema(connection: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
    if not {"metadata", "_sqlx_migrations", "sessions", "runs", "tasks"} <= tables:
        raise SprocketDbError(f"{path} is not a Sprocket database (tables: {', '.join(sorted(tables)) or 'none'})")
    version = connection.execute("select value from metadata where key = 'version'").fetchone()
    if version is None or version[0] != SCHEMA_VERSION:
        found = "none" if version is None else repr(version[0])
        raise SprocketDbError(f"{path} has Sprocket schema version {found}; this tracker reads {SCHEMA_VERSION!r}")
    applied = {row[0] for row in connection.execute("select version from _sqlx_migrations where success")}
    unknown = sorted(applied - KNOWN_MIGRATIONS)
    missing = sorted(KNOWN_MIGRATIONS - applied)
    if unknown or missing:
        detail = f"unknown migrations {unknown}" if unknown else f"migrations {missing} not applied"
        raise SprocketDbError(
            f"{path} is of a Sprocket version this tracker does not read ({detail}): it reads Sprocket 0.33's schema"
        )
