"""The few places where SQL differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_of(session: Session) -> str:
    """`sqlite` or `postgresql`."""
    return session.get_bind().dialect.name


def insert(session: Session, model: Any) -> Any:
    """The dialect's INSERT (with `on_conflict_do_update` / `on_conflict_do_nothing`)."""
    return insert_for(dialect_of(session), model)


def insert_for(dialect: str, model: Any) -> Any:
    """`insert` by dialect name (for statements built once per dialect)."""
    if dialect == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def position(dialect: str, needle: str | ColumnElement[str], haystack: ColumnElement[str]) -> ColumnElement[int]:
    """1-based position of `needle` in `haystack`, 0 when absent."""
    if dialect == "postgresql":
        return func.strpos(haystack, needle)
    return func.instr(haystack, needle)
