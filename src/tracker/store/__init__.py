"""The SQL index: runs, processes, outputs (one row per published S3 object) and
lifecycle job history, on SQLite (embedded default, WAL) or PostgreSQL.

Use `make_engine(url)`, call `migrate(engine)` once at startup, and open sessions from
`session_factory(engine)`. The repository modules (`runs`, `outputs`, `jobs`) hold
keyword-only functions that take a Session first and take and return
`tracker.domain.records` dataclasses; the caller owns the transaction (commit).
"""

from tracker.store.engine import make_engine, migrate, session_factory
from tracker.store.errors import (
    AmbiguousRun,
    DuplicateRunName,
    OutputConflict,
    RunNotFound,
    StoreError,
)

__all__ = [
    "AmbiguousRun",
    "DuplicateRunName",
    "OutputConflict",
    "RunNotFound",
    "StoreError",
    "make_engine",
    "migrate",
    "session_factory",
]
