"""Which runs published a URL, newest first: two exact plans, raced.

- match-first: find the matching rows by an index, collect their runs, add the runs
  whose output_dir matches, sort. Its cost grows with the matching rows.
- run-first: walk the runs newest first, check each (its output_dir, then an EXISTS
  over its rows), stop at `limit` found. Its cost grows with the runs walked: cheap
  when the text occurs in many runs, a scan of everything when it occurs in few.

Both answer exactly the same question, so whichever finishes first is right. They
advance in turns, each turn about twice the work of its last, the plan that has
spent less time going next (`urlmatch.race`), so a lookup costs about twice the
cheaper plan. Text that starts with `s3://` uses b-tree ranges, one per case variant
of the text present (`urlmatch`), for both plans; there a run-first check is one
seek, so run-first first goes alone while at least DENSE of the runs it walked
(after a trial of two turns) matched: it then finishes within about `limit / DENSE`
runs, where match-first would read every row of at least as many runs. Other text
uses the trigram index: on SQLite the FTS5 table, read in rowid order chunk by
chunk; on PostgreSQL a GIN bitmap, which cannot stop early, so run-first's density
alone decides whether it is started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from tracker.store.models import Base, Output, Run
from tracker.store.textsearch import MIN_INDEXED, contains, fts_query, outputs_fts
from tracker.store.urlmatch import (
    anchored,
    contains_folded,
    fold,
    folded_contains,
    inner_scheme_rows,
    lower_url,
    no_jit,
    race,
    variant_ranges,
)

outputs = Base.metadata.tables[Output.__tablename__]

RUNS_FIRST_TURN = 16  # runs the first run-first turn checks
ROWS_FIRST_TURN = 1000  # rows the first match-first turn reads
MAX_RUNS_TURN = 1000
MAX_ROWS_TURN = 8000
DENSE = 1 / 8  # run-first goes on alone while this share of the runs walked matched
ID_CHUNK = 5000  # run ids per IN list
PLANS = ("race", "match-first", "run-first")


def newest_matching_run_ids(session: Session, dialect: str, text: str, limit: int, *, plan: str = "race") -> list[str]:
    """The ids of the newest `limit` runs with an output URL containing `text`
    (ignoring ASCII case), or whose output_dir contains it or holds it. `plan`
    "match-first" or "run-first" runs that plan alone (the tests compare them)."""
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {', '.join(PLANS)}")
    if limit == 0:
        return []
    no_jit(session, dialect)
    owner = _owner(dialect, text)
    ranges = variant_ranges(session, fold(text), []) if anchored(text) else None
    if ranges is not None:
        inner = {row.run_id for row in inner_scheme_rows(session, dialect) if contains_folded(row.url, text)}
        # A seek per case variant into (run_id, url), which both planners read index-only.
        starts = or_(false(), *(_in_range(low, high) for low, high in ranges))
        per_run = exists().where(Output.run_id == Run.id, starts)
        hit = case((owner, True), (per_run, True), else_=False)
        growth = 4  # a seek per run: cheap turns
        walk = _RunFirst(session, hit, limit, extra=inner, growth=growth, trial=RUNS_FIRST_TURN * (1 + growth))
        if plan == "race" and walk.while_dense():
            return walk.answer()
        return _race(session, walk, _RangeRows(session, ranges), owner, inner, limit, plan)
    per_run = exists().where(Output.run_id == Run.id, folded_contains(lower_url(), text))
    walk = _RunFirst(session, case((owner, True), (per_run, True), else_=False), limit)
    if dialect == "sqlite" and len(text) >= MIN_INDEXED:
        return _race(session, walk, _FtsRows(session, dialect, text), owner, set(), limit, plan)
    if plan == "run-first" or (plan == "race" and walk.while_dense()):
        return walk.finish()
    published = session.scalars(
        select(outputs.c.run_id).where(contains(dialect, outputs.c.url, text)).distinct()
    )  # the trigram index (or, for 1-2 characters, a scan)
    return _newest(session, set(published) | _owners(session, owner), limit)


def _in_range(low: str, high: str | None) -> ColumnElement[bool]:
    url = Output.url
    conditions = [url >= low, func.substr(url, 1, len(low)) == low]
    if high is not None:
        conditions.append(url < high)
    return and_(*conditions)


def _owner(dialect: str, text: str) -> ColumnElement[bool]:
    """The run's output_dir contains `text` or holds it (so a URL or prefix finds its
    run before any row is indexed)."""
    return and_(
        func.length(Run.output_dir) > 0,
        or_(contains(dialect, Run.output_dir, text), _holds(dialect, Run.output_dir, text)),
    )


def _holds(dialect: str, prefix: SQLColumnExpression[str | None], text: str) -> ColumnElement[bool]:
    """`text` starts with the column's value, ignoring ASCII case."""
    value = literal(text).collate("C") if dialect == "postgresql" else literal(text)
    return func.lower(func.substr(value, 1, func.length(prefix))) == func.lower(prefix)


@dataclass
class _RunFirst:
    """Runs newest first, `limit` at a time growing, each checked by `hit`."""

    session: Session
    hit: ColumnElement[bool]
    limit: int
    extra: set[str] = field(default_factory=set)  # runs known to match
    growth: int = 2  # how much larger each turn is than the last
    trial: int = 0  # runs walked before density counts
    turn: int = RUNS_FIRST_TURN
    walked: int = 0
    matched: list[str] = field(default_factory=list)
    after: tuple[datetime, str] | None = None
    exhausted: bool = False

    @property
    def found(self) -> int:
        return len(self.matched)

    @property
    def done(self) -> bool:
        return self.exhausted or self.found >= self.limit

    def step(self) -> bool:
        if self.done:
            return True
        newest = Run.created_at.desc(), Run.id
        window = select(Run.id).order_by(*newest)
        if self.after is not None:
            at, last = self.after
            window = window.where(Run.created_at <= at, ~and_(Run.created_at == at, Run.id <= last))
        want = self.turn
        if self.found:  # about enough for what is missing, at the density seen so far
            want = min(want, int((self.limit - self.found) * self.walked / self.found * 1.5) + 16)
        # The check runs on the window's runs only: so PostgreSQL plans it as one
        # index probe per run, never as a hashed scan of every output row.
        ids = window.limit(want).subquery()
        stmt = select(Run.id, Run.created_at, self.hit.label("hit")).join(ids, ids.c.id == Run.id).order_by(*newest)
        rows = self.session.execute(stmt).all()
        for run_id, _at, hit in rows:
            self.walked += 1
            if hit or run_id in self.extra:
                self.matched.append(run_id)
                if self.found >= self.limit:
                    break
        if rows:
            self.after = (rows[-1][1], rows[-1][0])
        self.exhausted = len(rows) < want
        self.turn = min(self.turn * self.growth, MAX_RUNS_TURN)
        return self.done

    def while_dense(self) -> bool:
        """Step while at least DENSE of the runs walked past `trial` matched (and at
        least once); whether the walk is done."""
        while not self.done and self.found >= DENSE * (self.walked - self.trial):
            self.step()
        return self.done

    def finish(self) -> list[str]:
        while not self.step():
            pass
        return self.answer()

    def answer(self) -> list[str]:
        return self.matched[: self.limit]


class _Rows:
    """Matching rows read chunk by chunk; `runs` collects the runs they belong to."""

    def __init__(self) -> None:
        self.runs: set[str] = set()
        self.turn = ROWS_FIRST_TURN
        self.done = False

    def step(self) -> bool:
        if self.done:
            return True
        read = self.read(self.turn)
        self.done = read < self.turn
        self.turn = min(self.turn * 2, MAX_ROWS_TURN)
        return self.done

    def read(self, count: int) -> int:
        raise NotImplementedError


class _RangeRows(_Rows):
    """The rows in URL ranges (each case variant of the text), in (url, run_id) order
    from the index alone; a run's further rows at the same URL are skipped."""

    def __init__(self, session: Session, ranges: list[tuple[str, str | None]]) -> None:
        super().__init__()
        self.session, self.ranges, self.at = session, ranges, 0
        self.after: tuple[str, str] | None = None
        if not ranges:
            self.done = True

    def step(self) -> bool:
        if not self.done:
            super().step()
            self.done = self.at >= len(self.ranges)
        return self.done

    def read(self, count: int) -> int:
        url = Output.url
        low, high = self.ranges[self.at]
        bounds = [func.substr(url, 1, len(low)) == low]
        if high is not None:
            bounds.append(url < high)
        if self.after is None:
            bounds.append(url >= low)
        else:  # the index range starts at the last row read
            last_url, last_run = self.after
            bounds += [url >= last_url, tuple_(url, Output.run_id) > tuple_(literal(last_url), literal(last_run))]
        rows = self.session.execute(
            select(url, Output.run_id).where(*bounds).order_by(url, Output.run_id).limit(count)
        ).all()
        self.runs.update(run_id for _, run_id in rows)
        self.after = (rows[-1][0], rows[-1][1]) if rows else None
        if len(rows) < count:  # this range is done: on to the next
            self.at, self.after = self.at + 1, None
            return count
        return len(rows)


class _FtsRows(_Rows):
    """SQLite: the FTS5 candidates in rowid order, each re-checked with LIKE."""

    def __init__(self, session: Session, dialect: str, text: str) -> None:
        super().__init__()
        self.session, self.after = session, 0
        self.query = fts_query([text])
        self.check = contains(dialect, outputs.c.url, text)

    def read(self, count: int) -> int:
        candidates = (
            select(outputs_fts.c.rowid.label("rowid"))
            .where(
                literal_column("outputs_fts").op("MATCH")(literal(self.query)),
                outputs_fts.c.rowid > self.after,
            )
            .order_by(outputs_fts.c.rowid)
            .limit(count)
            .subquery()
        )
        rows = self.session.execute(
            select(candidates.c.rowid, outputs.c.run_id, self.check).join(outputs, outputs.c.id == candidates.c.rowid)
        ).all()
        self.runs.update(run_id for _, run_id, ok in rows if ok)
        if rows:
            self.after = max(rowid for rowid, _, _ in rows)
        return len(rows)


def _race(
    session: Session,
    walk: _RunFirst,
    rows: _Rows,
    owner: ColumnElement[bool],
    extra: set[str],
    limit: int,
    plan: str,
) -> list[str]:
    if plan == "run-first" or (plan == "race" and not race(rows.step, walk.step)):
        return walk.finish()
    while not rows.step():
        pass
    return _newest(session, rows.runs | extra | _owners(session, owner), limit)


def _owners(session: Session, owner: ColumnElement[bool]) -> set[str]:
    return set(session.scalars(select(Run.id).where(owner)))


def _newest(session: Session, ids: set[str], limit: int) -> list[str]:
    """The newest `limit` of `ids` (created_at descending, then id), ordered by the
    database: the newest of each chunk of ids, then the newest of those."""
    ordered = sorted(ids)
    while True:
        found: list[str] = []
        for start in range(0, len(ordered), ID_CHUNK):
            found += session.scalars(
                select(Run.id)
                .where(Run.id.in_(ordered[start : start + ID_CHUNK]))
                .order_by(Run.created_at.desc(), Run.id)
                .limit(limit)
            )
        if len(ordered) <= ID_CHUNK:
            return found
        ordered = sorted(found)
