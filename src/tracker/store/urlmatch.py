"""The pieces the lookup and search plans share: ASCII case folding, the URL ranges
for text that starts with `s3://`, the partial index of the rows such text can match
elsewhere than at their start, and the race of two plans.

Text that starts with `s3://` (any case) can occur in a URL only at its start or where
`s3://` occurs again later in it. The first kind lies in the URL ranges of the text's
case variants that occur (`variant_ranges`: a skip scan, one seek per variant), read
from the b-trees `ix_outputs_url (url, run_id)` and `uq_outputs_run_url (run_id, url)`;
the second kind is the partial index `ix_outputs_inner_scheme`, which holds only such
rows (a URL inside a key). So these plans never need the trigram index, and their
cost follows the rows or runs they find, not how common the text's trigrams are.
"""

from __future__ import annotations

import string
import time
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import ColumnElement, SQLColumnExpression, func, literal, select, text
from sqlalchemy.orm import Session

from tracker.domain.fence import successor
from tracker.store.models import Output
from tracker.store.textsearch import ESCAPE, escape_like

outputs = Output.__table__

SCHEME = "s3://"
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

# Exactly the predicate of the partial index in migration 0009: both planners match
# a partial index's predicate against the query's text.
_INNER_SCHEME = {
    "sqlite": "instr(lower(substr(url, 2)), 's3://') > 0",
    "postgresql": "strpos(lower(substr(url, 2)), 's3://') > 0",
}


def fold(value: str) -> str:
    """`value` with ASCII letters in lower case (what lower() does on both engines)."""
    return value.translate(_FOLD)


def anchored(value: str) -> bool:
    """Whether `value` starts with `s3://`, ignoring ASCII case."""
    return fold(value).startswith(SCHEME)


def lower_url() -> ColumnElement[str]:
    return func.lower(Output.url)


class InnerRow(NamedTuple):
    id: int
    url: str
    run_id: str


def inner_scheme_rows(session: Session, dialect: str, run_id: str | None = None) -> list[InnerRow]:
    """The rows whose URL holds `s3://` after its first character (of one run, if
    given), from their partial index; few by nature, so callers filter them here.
    SQLite is told the index by name: it keeps no statistics for an empty one."""
    hint = " INDEXED BY ix_outputs_inner_scheme" if dialect == "sqlite" else ""
    scope = " AND run_id = :run_id" if run_id is not None else ""
    stmt = text(f"SELECT id, url, run_id FROM outputs{hint} WHERE {_INNER_SCHEME[dialect]}{scope}")  # noqa: S608
    return [InnerRow(*row) for row in session.execute(stmt, {"run_id": run_id} if run_id is not None else {})]


def contains_folded(url: str, word: str) -> bool:
    """`url` contains `word` ignoring ASCII case: what the SQL conditions decide."""
    return fold(word) in fold(url)


def folded_contains(target: SQLColumnExpression[str], value: str) -> ColumnElement[bool]:
    """`target` (already folded) contains `value`, literally: LIKE on folded text,
    which no trigram index serves, so a planner keeps to the b-tree it walks."""
    return target.like(literal(f"%{escape_like(fold(value))}%"), escape=ESCAPE)


def race(first: Callable[[], bool], second: Callable[[], bool]) -> bool:
    """Step two plans (each step returns whether that plan is done), always the one
    that has spent less time so far, until one is done: True when `first` finished.
    Time decides only which plan answers; both answer the same."""
    spent = [0.0, 0.0]
    steps = (first, second)
    while True:
        which = 0 if spent[0] <= spent[1] else 1
        started = time.perf_counter()
        done = steps[which]()
        spent[which] += time.perf_counter() - started
        if done:
            return which == 0


def no_jit(session: Session, dialect: str) -> None:
    """PostgreSQL: no JIT compilation for the rest of this transaction. The plans' many
    small statements are estimated dear (a range's rows are guessed), and compiling
    them would cost more than running them."""
    if dialect == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


MAX_VARIANT_SEEKS = 256  # the skip scan gives up past this


def variant_ranges(
    session: Session, folded: str, scope: list[ColumnElement[bool]]
) -> list[tuple[str, str | None]] | None:
    """The URL ranges `[v, successor(v))` for every case variant `v` of `folded` (ASCII
    letters in either case) that some URL starts with, in order: a skip scan that seeks
    the first URL at or above the next possible variant. None past MAX_VARIANT_SEEKS."""
    url = outputs.c.url
    found: list[tuple[str, str | None]] = []
    position: str | None = _smallest_completion(folded, 0, "")
    for _ in range(MAX_VARIANT_SEEKS):
        if position is None:
            return found
        after = session.scalar(select(url).where(*scope, url >= position).order_by(url).limit(1))
        if after is None:
            return found
        head = after[: len(folded)]
        if fold(head) == folded:
            found.append((head, successor(head)))
            position = successor(head)
        else:
            position = _next_variant(head, folded)
    return None


def _options(folded: str, k: int) -> list[str]:
    c = folded[k]
    return sorted({c, c.upper()}) if "a" <= c <= "z" else [c]


def _smallest_completion(folded: str, k: int, prefix: str) -> str:
    return prefix + "".join(_options(folded, i)[0] for i in range(k, len(folded)))


def _next_variant(head: str, folded: str) -> str | None:
    """The smallest variant of `folded` above `head` (which is not a variant), or None."""
    n = len(folded)
    valid = 0  # the longest prefix of head that is a variant prefix
    while valid < min(len(head), n) and fold(head[valid]) == folded[valid]:
        valid += 1
    if valid == len(head) and valid < n:  # head is a proper prefix of variants
        return _smallest_completion(folded, valid, head)
    for k in range(valid, -1, -1):
        if k >= n or k >= len(head):
            continue
        bigger = [c for c in _options(folded, k) if c > head[k]]
        if bigger:
            return _smallest_completion(folded, k + 1, head[:k] + bigger[0])
    return None
