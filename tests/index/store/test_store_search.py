"""Substring lookup and search over output URLs: literal text (LIKE wildcards and FTS5
syntax are plain characters), ASCII case folding, short words, and proof from the
query plans that the trigram index serves 3+ character queries on both engines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.domain.records import OutputObject, RunRecord
from tracker.store import outputs
from tracker.store.textsearch import covering_trigrams, escape_like, fts_query

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)
AddRun = Callable[..., RunRecord]

RICH_KEYS = [
    "100%_done/a.txt",
    "50 percent/b c.txt",
    'quote"d/x.txt',
    "back\\slash/y",
    "日本語/データ.csv",
    "Émile/ÉTÉ.txt",
    "AND OR NOT/NEAR(x)*^:y",
    "emoji🧬/z.fa",
    "under_score/q",
    "tab\there",
]


@pytest.fixture
def published(session: Session, add_run: AddRun) -> dict[str, RunRecord]:
    """Three runs; run-1 publishes the rich keys, run-10 a neighbour, run-x nothing yet."""
    one = add_run(run_name="run-1", output_dir="s3://bucket/runs/run-1/", created_at=T0)
    ten = add_run(run_name="run-10", output_dir="s3://bucket/runs/run-10/", created_at=T0 + timedelta(hours=1))
    fresh = add_run(run_name="run-x", output_dir="s3://bucket/runs/Fresh/", created_at=T0 + timedelta(hours=2))
    outputs.upsert_outputs(
        session,
        run_id=one.id,
        objects=[OutputObject(f"s3://bucket/runs/run-1/{key}", 1) for key in [*RICH_KEYS, "Sample.BAM"]],
    )
    outputs.upsert_outputs(
        session,
        run_id=ten.id,
        objects=[
            OutputObject("s3://bucket/runs/run-10/sample.bam", 2),
            OutputObject("s3://bucket/runs/run-10/percent", 2),
        ],
    )
    return {"run-1": one, "run-10": ten, "run-x": fresh}


def lookup(session: Session, text: str, **kwargs: Any) -> list[str]:
    return [r.run_name for r in outputs.lookup_runs_by_url(session, text=text, **kwargs)]


def test_lookup_by_full_url_prefix_and_substring_ignoring_case(
    session: Session, published: dict[str, RunRecord]
) -> None:
    assert lookup(session, "s3://bucket/runs/run-1/Sample.BAM") == ["run-1"]
    assert lookup(session, "S3://BUCKET/RUNS/RUN-1/sample.bam") == ["run-1"]
    assert lookup(session, "s3://bucket/runs/run-1/") == ["run-1"]
    assert lookup(session, "s3://bucket/runs/run-1") == ["run-10", "run-1"]  # newest first
    assert lookup(session, "sample.bam") == ["run-10", "run-1"]
    assert lookup(session, "sample.bam", limit=1) == ["run-10"]
    assert lookup(session, "s3://bucket/runs/nothing/") == []


def test_lookup_finds_a_run_by_its_output_dir_before_any_row(session: Session, published: dict[str, RunRecord]) -> None:
    assert lookup(session, "s3://bucket/runs/fresh/") == ["run-x"]
    assert lookup(session, "runs/Fres") == ["run-x"]
    assert lookup(session, "s3://bucket/runs/Fresh/results/a.vcf") == ["run-x"]  # under its output_dir
    assert lookup(session, "s3://bucket/runs/Fresh-2/a.vcf") == []


@pytest.mark.parametrize("key", RICH_KEYS)
def test_lookup_text_is_literal(session: Session, published: dict[str, RunRecord], key: str) -> None:
    assert lookup(session, key) == ["run-1"]
    assert lookup(session, key.upper() if key.isascii() else key) == ["run-1"]
    assert lookup(session, key + "never") == []


@pytest.mark.parametrize(
    "text", ["%", "_", "%_", '"', "\\", "*", "^", " ", "日", "🧬", "(x)*", "AND", "OR NOT", "NEAR("]
)
def test_wildcards_and_fts_syntax_match_only_themselves(
    session: Session, published: dict[str, RunRecord], text: str
) -> None:
    urls = {
        "run-1": [f"s3://bucket/runs/run-1/{key}" for key in RICH_KEYS],
        "run-10": ["s3://bucket/runs/run-10/sample.bam", "s3://bucket/runs/run-10/percent"],
        "run-x": ["s3://bucket/runs/Fresh/"],
    }
    expected = {name for name, found in urls.items() if any(text.lower() in url.lower() for url in found)}
    assert expected
    assert set(lookup(session, text)) == expected


def test_lookup_refuses_empty_text_and_never_fails_on_nul(session: Session, published: dict[str, RunRecord]) -> None:
    with pytest.raises(ValueError, match="give a URL"):
        lookup(session, "")
    assert lookup(session, "a\x00b") == []


def search(session: Session, *words: str, **kwargs: Any) -> tuple[list[str], int]:
    matches, total = outputs.search_outputs(session, words=list(words), **kwargs)
    return [m.object.url.rsplit("/", 2)[-2] + "/" + m.object.url.rsplit("/", 1)[-1] for m in matches], total


def test_search_ands_words_ordered_by_url_with_pages(session: Session, published: dict[str, RunRecord]) -> None:
    assert search(session, "percent", "run-1") == (["50 percent/b c.txt", "run-10/percent"], 2)
    assert search(session, "PERCENT", "b c") == (["50 percent/b c.txt"], 1)
    assert search(session, "percent", "run-1/") == (["50 percent/b c.txt"], 1)
    assert search(session, "%", "_") == (["100%_done/a.txt"], 1)
    assert search(session, "a", "sample.bam") == (["run-1/Sample.BAM", "run-10/sample.bam"], 2)  # short + long
    assert search(session, "SC", "q") == (["under_score/q"], 1)  # all short: a plain scan
    assert search(session, "txt", limit=2) == (["100%_done/a.txt", "50 percent/b c.txt"], 4)
    assert search(session, "txt", limit=2, offset=3) == (["Émile/ÉTÉ.txt"], 4)  # code point order
    assert search(session, "sample", run_id=published["run-10"].id) == (["run-10/sample.bam"], 1)
    assert search(session, "sample", "nothing") == ([], 0)


def test_search_results_carry_the_run_and_deleted_rows(session: Session, published: dict[str, RunRecord]) -> None:
    ten = published["run-10"]
    outputs.mark_outputs_deleted(session, run_id=ten.id, at=T0, by="alice")
    matches, total = outputs.search_outputs(session, words=["sample.bam"], run_id=ten.id)
    assert total == 1
    assert (matches[0].run_id, matches[0].run_name, matches[0].object.size, matches[0].deleted_at) == (
        ten.id,
        "run-10",
        2,
        T0,
    )


def test_search_needs_a_word(session: Session) -> None:
    for words in ([], [""]):
        with pytest.raises(ValueError, match="at least one non-empty search word"):
            outputs.search_outputs(session, words=words)


def test_fts_query_quotes_every_trigram() -> None:
    assert escape_like("a%b_c\\d") == "a\\%b\\_c\\\\d"
    assert covering_trigrams("ab") == []
    assert covering_trigrams("abcdefg") == ["abc", "def", "efg"]
    assert len(covering_trigrams("x" * 1000)) == 32
    assert fts_query(['a"b c', "xyz"]) == '"a""b" "b c" AND "xyz"'.replace('" "', '" AND "')


def test_search_index_stays_consistent_through_rewrites(
    db_url: str, session: Session, published: dict[str, RunRecord]
) -> None:
    outputs.rewrite_output_paths(
        session, run_id=published["run-1"].id, old_prefix="s3://bucket/runs/run-1/", new_prefix="s3://archive/run-1/"
    )
    outputs.upsert_outputs(session, run_id=published["run-1"].id, objects=[OutputObject("s3://archive/run-1/new", 1)])
    if db_url.startswith("sqlite"):  # the FTS5 table is kept in step by triggers: check it
        session.execute(sa.text("INSERT INTO outputs_fts(outputs_fts, rank) VALUES ('integrity-check', 1)"))
    assert lookup(session, "archive/run-1/new") == ["run-1"]
    assert lookup(session, "bucket/runs/run-1/") == []


@pytest.fixture
def statements(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SQL statement the engine runs (with its parameters) while the test runs."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def plan(session: Session, statement: str, parameters: Any) -> str:
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    return "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())


def test_indexes_serve_lookup_and_search(session: Session, add_run: AddRun, statements: list[tuple[str, Any]]) -> None:
    """No statement of a lookup or a search reads the outputs table whole: s3:// text
    is served by URL ranges, other text by the trigram index (or a bounded walk)."""
    run = add_run(output_dir="s3://bucket/runs/big/")
    outputs.upsert_outputs(
        session,
        run_id=run.id,
        objects=(OutputObject(f"s3://bucket/runs/big/sample_{i:05d}/reads.bam", i) for i in range(100_000)),
    )
    session.execute(sa.text("ANALYZE"))  # PostgreSQL's planner scans small tables whole
    statements.clear()
    assert len(outputs.lookup_runs_by_url(session, text="SAMPLE_01234/reads")) == 1
    assert len(outputs.lookup_runs_by_url(session, text="S3://BUCKET/RUNS/BIG/SAMPLE_01234/READS.BAM")) == 1
    assert outputs.search_outputs(session, words=["sample_0123", "reads"])[1] == 10
    assert outputs.search_outputs(session, words=["sample_01234"], run_id=run.id)[1] == 1
    queries = [(s, p) for s, p in statements if "outputs" in s and s.lstrip().upper().startswith("SELECT")]
    shown = [plan(session, statement, parameters) for statement, parameters in queries]
    sqlite = session.get_bind().dialect.name == "sqlite"
    for one in shown:
        lines = one.splitlines()
        if sqlite:
            whole = [
                line
                for line in lines
                if line.strip().startswith("SCAN outputs")
                and "outputs_fts" not in line
                and "ix_outputs_inner_scheme" not in line  # the partial index: rows with an inner s3://
            ]
            assert not whole, one
        else:  # a run-first check reads one run's rows: all rows here, so a scan is fair
            whole = [
                line
                for n, line in enumerate(lines)
                if "Seq Scan on outputs" in line and "(run_id)::text = (runs.id)::text" not in lines[n + 1]
            ]
            assert not whole, one
    if sqlite:  # PostgreSQL's planner picks among its indexes by cost on this small table
        assert any("VIRTUAL TABLE INDEX" in one for one in shown), shown
