"""Which output rows contain every word, ordered by URL: two exact plans, raced.

- match-first: the trigram index finds the candidate rows, each is re-checked, the
  first page is kept in order and the matches are counted. Its cost grows with the
  matching rows.
- URL order: walk the URL b-tree in order, check each row, stop once the page is full
  and `count_limit` matches are counted. Its cost grows with the rows walked: cheap
  when matches are dense. When a word starts with `s3://` only the URL ranges that
  start with a case variant of it are walked (found by a skip scan: one seek per
  variant present), plus the few rows holding `s3://` further in (`urlmatch`).

The plans advance in turns of growing size, the one that has spent less time going
next (`urlmatch.race`), until one finishes; on PostgreSQL the
trigram index is a GIN bitmap that cannot stop early, so it runs as one statement
unless the first turns of the URL-order walk say it will finish within a budget. With `count_limit`, the total counts
matches up to it: a total equal to `count_limit` means at least that many.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from tracker.store.models import Base, Output
from tracker.store.textsearch import MIN_INDEXED, contains, fts_query, outputs_fts, where_url_contains
from tracker.store.urlmatch import anchored, contains_folded, fold, inner_scheme_rows, no_jit, race, variant_ranges

outputs = Base.metadata.tables[Output.__tablename__]

FIRST_TURN = 1000  # rows the first turn of a plan reads
MAX_TURN = 16_000
PG_WALK_BUDGET = 100_000  # PostgreSQL: rows the URL-order walk is expected to need, at most

Key = tuple[str, int]  # (url, id): the order of the results
PLANS = ("race", "match-first", "url-order")


def matching_rows(
    session: Session,
    dialect: str,
    words: Sequence[str],
    *,
    run_id: str | None,
    limit: int,
    offset: int,
    count_limit: int | None,
    plan: str = "race",
) -> tuple[list[int], int]:
    """The ids of the page's rows, in (url, id) order, and the total (capped).
    `plan` "match-first" or "url-order" runs that plan alone (the tests compare them)."""
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {', '.join(PLANS)}")
    no_jit(session, dialect)
    want = offset + limit
    scope = [outputs.c.run_id == run_id] if run_id is not None else []
    ranges: list[tuple[str, str | None]] | None = None
    inner: list[Key] = []
    for word in words:
        if anchored(word):
            ranges = variant_ranges(session, fold(word), scope)
            if ranges is not None:
                inner = sorted(
                    (row.url, row.id)
                    for row in inner_scheme_rows(session, dialect, run_id)
                    if all(contains_folded(row.url, w) for w in words)
                )
                break
    indexed = [w for w in words if len(w) >= MIN_INDEXED]
    if plan == "match-first" and indexed:
        ranges, inner = None, []
    walk = _UrlWalk(session, dialect, list(words), scope, want, count_limit, ranges, inner)
    if plan == "url-order" or ranges is not None or not indexed:
        while not walk.step():
            pass
        return walk.answer(offset)
    if dialect == "sqlite":
        found = _FtsMatches(session, dialect, list(words), scope, want)
        if plan == "match-first" or race(found.step, walk.step):
            while not found.step():
                pass
            return found.answer(offset, count_limit)
        return walk.answer(offset)
    if plan == "match-first":
        return _gin(session, dialect, words, scope, limit, offset, count_limit)
    need = max(want, count_limit) if count_limit is not None else None
    while not walk.step():  # on while the matches seen so far say it will finish within budget
        if need is None or not walk.count or walk.read * need / walk.count > PG_WALK_BUDGET:
            break
    if walk.done:
        return walk.answer(offset)
    return _gin(session, dialect, words, scope, limit, offset, count_limit)


def _matches_all(dialect: str, target: ColumnElement[str], words: Sequence[str]) -> ColumnElement[bool]:
    return and_(*(contains(dialect, target, w) for w in words))


@dataclass
class _UrlWalk:
    """Rows in (url, id) order, over the whole index or over `ranges` (url prefixes),
    with `inner` (already known matches outside the ranges) merged in."""

    session: Session
    dialect: str
    words: list[str]
    scope: list[ColumnElement[bool]]
    want: int
    count_limit: int | None
    ranges: list[tuple[str, str | None]] | None
    inner: list[Key]
    matches: list[Key] = field(default_factory=list)
    count: int = 0
    read: int = 0
    turn: int = FIRST_TURN
    at: int = 0  # which range
    after: Key | None = None
    exhausted: bool = False

    def __post_init__(self) -> None:
        self.inner_ids = {row_id for _, row_id in self.inner}
        if self.ranges == []:
            self.exhausted = True

    @property
    def done(self) -> bool:
        if self.exhausted:
            return True
        return (
            len(self.matches) >= self.want
            and self.count_limit is not None
            and self.count + len(self.inner) >= self.count_limit
        )

    def step(self) -> bool:
        if self.done:
            return True
        url = outputs.c.url
        bounds: list[ColumnElement[bool]] = list(self.scope)
        if self.ranges is not None:
            low, high = self.ranges[self.at]
            bounds += [func.substr(url, 1, len(low)) == low]
            if self.after is None:
                bounds.append(url >= low)
            if high is not None:
                bounds.append(url < high)
        if self.after is not None:  # the index range starts at the last row read
            bounds += [url >= self.after[0], or_(url > self.after[0], outputs.c.id > self.after[1])]
        walked = select(outputs.c.id, url).where(*bounds).order_by(url, outputs.c.id).limit(self.turn).subquery()
        ok = _matches_all(self.dialect, walked.c.url, self.words)
        if self.inner_ids:
            ok = and_(ok, walked.c.id.not_in(self.inner_ids))
        flag = case((ok, 1), else_=0)
        order = (walked.c.url, walked.c.id)
        # Only the matches the page still needs, and the last row walked, come back;
        # the database counts the rest.
        marked = select(
            walked.c.url,
            walked.c.id,
            flag.label("ok"),
            func.row_number().over(order_by=order).label("at"),
            func.count().over().label("walked"),
            func.sum(flag).over(order_by=order).label("upto"),
            func.sum(flag).over().label("found"),
        ).subquery()
        need = self.want - len(self.matches)
        rows = self.session.execute(
            select(marked.c.url, marked.c.id, marked.c.ok, marked.c.at, marked.c.walked, marked.c.found)
            .where(or_(and_(marked.c.ok == 1, marked.c.upto <= need), marked.c.at == marked.c.walked))
            .order_by(marked.c.at)
        ).all()
        walked_rows = rows[-1].walked if rows else 0
        self.read += walked_rows
        self.count += int(rows[-1].found) if rows else 0
        for row in rows:
            if row.ok and len(self.matches) < self.want:
                self.matches.append((row.url, row.id))
        if rows:
            self.after = (rows[-1].url, rows[-1].id)
        if walked_rows < self.turn:
            self.after = None
            self.at += 1
            if self.ranges is None or self.at >= len(self.ranges):
                self.exhausted = True
        self.turn = min(self.turn * 2, MAX_TURN)
        target = max(self.want, self.count_limit or 0)
        if self.count and self.count < target:  # about enough rows for what is missing, at the density seen
            self.turn = min(int((target - self.count) * self.read / self.count * 1.25) + 100, MAX_TURN)
        return self.done

    def answer(self, offset: int) -> tuple[list[int], int]:
        page = heapq.nsmallest(self.want, [*self.matches, *self.inner])[offset:]
        total = self.count + len(self.inner)
        if self.count_limit is not None:
            total = min(total, self.count_limit)
        return [row_id for _, row_id in page], total


@dataclass
class _FtsMatches:
    """SQLite: the FTS5 candidates in rowid order, re-checked, the first `want` kept."""

    session: Session
    dialect: str
    words: list[str]
    scope: list[ColumnElement[bool]]
    want: int
    count: int = 0
    turn: int = FIRST_TURN
    after: int = 0

    def __post_init__(self) -> None:
        self.query = fts_query([w for w in self.words if len(w) >= MIN_INDEXED])
        self.top: list[tuple[_Desc, int]] = []
        self.done = False

    def step(self) -> bool:
        if self.done:
            return True
        candidates = (
            select(outputs_fts.c.rowid.label("rowid"))
            .where(literal_column("outputs_fts").op("MATCH")(literal(self.query)), outputs_fts.c.rowid > self.after)
            .order_by(outputs_fts.c.rowid)
            .limit(self.turn)
            .subquery()
        )
        ok = and_(_matches_all(self.dialect, outputs.c.url, self.words), *self.scope)
        checked = (
            select(candidates.c.rowid, outputs.c.url, case((ok, 1), else_=0).label("ok"))
            .join(outputs, outputs.c.id == candidates.c.rowid)
            .subquery()
        )
        # The chunk's first `want` matches by URL, and its counts, come back; the
        # first row of each kind carries the counts even when nothing matched.
        ranked = select(
            checked.c.rowid,
            checked.c.url,
            checked.c.ok,
            func.count().over().label("read"),
            func.sum(checked.c.ok).over().label("found"),
            func.max(checked.c.rowid).over().label("last"),
            func.row_number().over(partition_by=checked.c.ok, order_by=(checked.c.url, checked.c.rowid)).label("rank"),
        ).subquery()
        rows = self.session.execute(
            select(ranked).where(or_(and_(ranked.c.ok == 1, ranked.c.rank <= self.want), ranked.c.rank == 1))
        ).all()
        for row in rows:
            if row.ok and row.rank <= self.want:
                key = (row.url, row.rowid)
                if len(self.top) < self.want:
                    heapq.heappush(self.top, (_Desc(key), row.rowid))
                elif key < self.top[0][0].key:
                    heapq.heapreplace(self.top, (_Desc(key), row.rowid))
        read = rows[0].read if rows else 0
        if rows:
            self.count += int(rows[0].found)
            self.after = rows[0].last
        self.done = read < self.turn
        self.turn = min(self.turn * 2, MAX_TURN)
        return self.done

    def answer(self, offset: int, count_limit: int | None) -> tuple[list[int], int]:
        page = sorted(entry.key for entry, _ in self.top)[offset:]
        total = self.count if count_limit is None else min(self.count, count_limit)
        return [row_id for _, row_id in page], total


class _Desc:
    """A key ordered backwards, so that heapq's min-heap keeps the smallest keys."""

    __slots__ = ("key",)

    def __init__(self, key: Key) -> None:
        self.key = key

    def __lt__(self, other: _Desc) -> bool:
        return self.key > other.key


def _gin(
    session: Session,
    dialect: str,
    words: Sequence[str],
    scope: list[ColumnElement[bool]],
    limit: int,
    offset: int,
    count_limit: int | None,
) -> tuple[list[int], int]:
    """PostgreSQL: the trigram index, as one statement: the matches, materialized
    (so the planner cannot walk the URL b-tree in order instead, which it may guess
    cheaper for a page), then sorted for the page and counted."""
    matched = (
        where_url_contains(select(outputs.c.id, outputs.c.url), dialect, words)
        .where(*scope)
        .cte()
        .prefix_with("MATERIALIZED")
    )
    rows = session.execute(
        select(matched.c.id, func.count().over())
        .order_by(matched.c.url, matched.c.id)
        .limit(max(limit, 1))
        .offset(offset)
    ).all()
    total = rows[0][1] if rows else 0
    if not rows and offset:
        total = session.scalar(select(func.count()).select_from(matched)) or 0
    if count_limit is not None:
        total = min(total, count_limit)
    return [row_id for row_id, _ in rows][:limit], total
