"""Literal, case-insensitive substring matching of output URLs, served by an index.

User text is literal: `%`, `_`, `\\` and `"` are characters like any other. Case is
folded for ASCII letters only, the same on both engines (SQLite's LIKE and lower();
PostgreSQL's ILIKE and lower() on `COLLATE "C"` text).

- Words of 3+ characters use the trigram index. PostgreSQL: `ILIKE '%word%'` served
  by the pg_trgm GIN index. SQLite: the FTS5 trigram table `outputs_fts` (detail=none)
  finds candidates holding a covering set of the word's trigrams, and `LIKE` re-checks
  each candidate, so the answer is exact.
- Shorter words cannot use a trigram index: a plain scan with `instr`/`strpos`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    column,
    func,
    literal,
    literal_column,
    table,
)

from tracker.domain.fence import successor
from tracker.store.models import Output

MIN_INDEXED = 3  # characters: the shortest word a trigram index can serve
MAX_TRIGRAMS = 32  # per word, in the FTS5 query (the LIKE re-check keeps it exact)
ESCAPE = "\\"

outputs_fts = table("outputs_fts", column("rowid"))
Columns = TypeVarTuple("Columns")


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern that matches only itself (escape character `\\`)."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def covering_trigrams(word: str) -> list[str]:
    """Trigrams of `word` that together cover every character (at most MAX_TRIGRAMS)."""
    if len(word) < MIN_INDEXED:
        return []
    starts = list(range(0, len(word) - 2, 3))
    if starts[-1] != len(word) - 3:
        starts.append(len(word) - 3)
    if len(starts) > MAX_TRIGRAMS:
        step = (len(starts) - 1) / (MAX_TRIGRAMS - 1)
        starts = [starts[round(i * step)] for i in range(MAX_TRIGRAMS)]
    return [word[i : i + 3] for i in starts]


def fts_query(words: Sequence[str]) -> str:
    """An FTS5 MATCH expression: the AND of each word's trigrams, each one quoted."""
    grams = dict.fromkeys(g for word in words for g in covering_trigrams(word))
    return " AND ".join('"' + gram.replace('"', '""') + '"' for gram in grams)


def contains(dialect: str, target: SQLColumnExpression[str | None], word: str) -> ColumnElement[bool]:
    """`target` contains `word`, literally, ignoring ASCII case."""
    if len(word) < MIN_INDEXED:
        needle = literal(word)
        if dialect == "postgresql":
            return func.strpos(func.lower(target), func.lower(needle.collate("C"))) > 0
        return func.instr(func.lower(target), func.lower(needle)) > 0
    pattern = f"%{escape_like(word)}%"
    if dialect == "postgresql":
        return target.ilike(pattern, escape=ESCAPE)
    return target.like(pattern, escape=ESCAPE)  # SQLite's LIKE ignores ASCII case


def where_url_contains(stmt: Select[*Columns], dialect: str, words: Sequence[str]) -> Select[*Columns]:
    """Restrict `stmt` (a select from `outputs`) to rows whose url contains every word."""
    indexed = [w for w in words if len(w) >= MIN_INDEXED]
    if dialect == "sqlite" and indexed:
        match = literal_column("outputs_fts").op("MATCH")(literal(fts_query(indexed)))
        stmt = stmt.join(outputs_fts, outputs_fts.c.rowid == Output.id).where(match)
    return stmt.where(*(contains(dialect, Output.url, w) for w in words))


def usable_words(words: Sequence[str]) -> list[str]:
    """The non-empty words; a ValueError when none is left."""
    kept = [w for w in words if w]
    if not kept:
        raise ValueError("give at least one non-empty search word")
    return kept


def under_prefix(target: ColumnElement[str], prefix: str) -> list[ColumnElement[bool]]:
    """`target` starts with `prefix`, case-sensitively and literally (no wildcards).

    A b-tree range (`>= prefix` and `< successor`) lets the index do the work; the
    `substr` equality keeps it exact. URL columns compare by code point on both
    engines (SQLite BINARY, PostgreSQL "C")."""
    conditions = [target >= prefix, func.substr(target, 1, len(prefix)) == prefix]
    upper = successor(prefix)
    if upper is not None:
        conditions.append(target < upper)
    return conditions
