"""Column types that behave the same on SQLite and PostgreSQL.

- `UTCDateTime`: accepts only timezone-aware datetimes, stores UTC (naive text on
  SQLite, `timestamptz` on PostgreSQL) and always returns UTC-aware datetimes.
- `Json`: JSON on SQLite, JSONB on PostgreSQL.
- `UrlText`: text compared byte by byte. On PostgreSQL it uses the "C" collation so
  that prefix ranges use the b-tree and case folding (ILIKE, lower) touches ASCII
  letters only, exactly as SQLite's LIKE and lower() do.
- `BigId`: a 64-bit autoincrement key that is SQLite's rowid on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, BigInteger, CursorResult, DateTime, Integer, Result, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

Json = JSON().with_variant(JSONB(), "postgresql")
UrlText = Text().with_variant(Text(collation="C"), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, stored and returned in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: pass a timezone-aware datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        if stored.tzinfo is None:
            return stored.replace(tzinfo=UTC)
        return stored.astimezone(UTC)


def plain(value: Any) -> Any:
    """Enum members as their value: drivers differ on enums (psycopg sends the name)."""
    return value.value if isinstance(value, Enum) else value


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE matched (the session returns a CursorResult for one, typed as any Result)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"expected the CursorResult of an UPDATE, got {type(result).__name__}")
    return result.rowcount
