"""Alembic migrations of the index (a package so that they ship in the wheel)."""

from __future__ import annotations

from typing import Any

SEARCH_OBJECTS = ("outputs_fts", "ix_outputs_url_trgm")  # engine-specific, migrations only


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave the substring-search structures (SQLite's FTS5 table and its shadow
    tables, PostgreSQL's trigram index) out of autogenerate: the models omit them."""
    return not (name is not None and name.startswith(SEARCH_OBJECTS))
