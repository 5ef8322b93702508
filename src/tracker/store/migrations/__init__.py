"""Alembic migrations of the index (a package so that they ship in the wheel)."""

from __future__ import annotations

from typing import Any

# Engine-specific indexes, in the migrations only.
SEARCH_OBJECTS = (
    "outputs_fts",
    "ix_outputs_url_trgm",
    "ix_outputs_inner_scheme",
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave the substring-search structures (SQLite's FTS5 table and its shadow
    tables, PostgreSQL's trigram index, the lookup plans' partial index) out of
    autogenerate: the models omit them."""
    return not (name is not None and name.startswith(SEARCH_OBJECTS))
