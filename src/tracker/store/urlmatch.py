"""The pieces the lookup and search plans share: ASCII case folding, the b-tree
conditions for text that starts with `s3://`, and the partial index of the rows such
text can match elsewhere than at their start.

Text that starts with `s3://` (any case) can occur in a URL only at its start or where
`s3://` occurs again later in it. The first kind is a range of `lower(url)` (index
`ix_outputs_lower_url`, and per run `ix_outputs_run_id_lower_url`); the second kind
is the partial index `ix_outputs_inner_scheme`, which holds only such rows (a URL
inside a key). So these lookups never need the trigram index, and their cost follows
the rows or runs they find, not how common the text's trigrams are.
"""

from __future__ import annotations

import string

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, func, literal, text

from tracker.domain.fence import successor
from tracker.store.models import Output
from tracker.store.textsearch import ESCAPE, escape_like

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


def starts_with_folded(target: SQLColumnExpression[str], folded: str) -> list[ColumnElement[bool]]:
    """`target` (a lower(...) expression) starts with `folded`: a b-tree range, and the
    `substr` equality that keeps it exact when there is no upper bound."""
    conditions = [target >= folded, func.substr(target, 1, len(folded)) == folded]
    upper = successor(folded)
    if upper is not None:
        conditions.append(target < upper)
    return conditions


def inner_scheme(dialect: str) -> ColumnElement[bool]:
    """The row's URL holds `s3://` after its first character (the partial index)."""
    return text(_INNER_SCHEME[dialect])  # type: ignore[return-value]


def folded_contains(target: SQLColumnExpression[str], value: str) -> ColumnElement[bool]:
    """`target` (already folded) contains `value`, literally: LIKE on folded text,
    which no trigram index serves, so a planner keeps to the b-tree it walks."""
    return target.like(literal(f"%{escape_like(fold(value))}%"), escape=ESCAPE)


def all_of(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return and_(*conditions)
