"""The lookup and search plans give the same answers as a plain scan, on both
engines: every kind of query (a full URL, a file name, a run prefix, a bucket prefix
that matches many runs, an ending that every run has, no match; changed case, literal
`%` and `_`, a URL inside a key), each plan alone and raced, at limits around the
number of matching runs, and with the skip scan over case variants given up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.records import OutputObject, RunRecord
from tracker.store import lookup, outputs, outputsearch, runlookup, runs, urlmatch
from tracker.store.dialects import dialect_of
from tracker.store.models import Output, Run

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)
BUCKETS = ("lab-a", "lab-b", "lab-c")
STEPS = ("sorted", "markdup")


@dataclass(frozen=True)
class Lab:
    urls: dict[str, list[str]]  # run id -> its output URLs
    dirs: dict[str, str]  # run id -> output_dir


def _key(n: int, k: int) -> str:
    step = STEPS[k % len(STEPS)]
    return f"S{n:02d}/S{n:02d}_{step}_{k:02d}.bam"


def _add_run(session: Session, run_id: str, output_dir: str, created: datetime, *, namespace: str) -> None:
    """A run named by its id, owned by alice, publishing under `output_dir`."""
    record = RunRecord(
        id=run_id,
        namespace=namespace,
        name=run_id,
        run_name=run_id,
        owner="alice",
        output_dir=output_dir,
        created_at=created,
    )
    runs.upsert_run(session, record=record)


@pytest.fixture
def lab(factory: sessionmaker[Session]) -> Lab:
    """24 runs over three buckets (some created at the same instant, so that ids break
    ties), 0-12 objects each; run 5 publishes keys with `%`, `_` and a different case,
    run 7 a key holding another bucket's URL, run 9 an object outside its output_dir."""
    urls: dict[str, list[str]] = {}
    dirs: dict[str, str] = {}
    with factory.begin() as session:
        for n in range(24):
            run_id = f"run-{n:02d}"
            output_dir = f"s3://{BUCKETS[n % 3]}/runs/r{n:02d}/"
            created = T0 + timedelta(minutes=n // 2)  # pairs share a creation time
            _add_run(session, run_id, output_dir, created, namespace="lab")
            found = [output_dir + _key(n, k) for k in range(n % 13)]
            if n == 5:
                found += [output_dir + "100%_done/A_B.txt", output_dir + "Mixed/CASE.Bam"]
            if n == 7:
                found += [output_dir + "copy-of-s3://lab-b/runs/r01/S01/x.bam"]
            if n == 9:
                found += ["s3://lab-c/elsewhere/r09.bam"]
            urls[run_id] = found
            dirs[run_id] = output_dir
            outputs.upsert_outputs(session, run_id=run_id, objects=[OutputObject(u, 1) for u in found])
    return Lab(urls, dirs)


def fold(text: str) -> str:
    return urlmatch.fold(text)


def expected_runs(session: Session, lab: Lab, text: str, limit: int) -> list[str]:
    """The plain answer: every run whose URLs or output_dir match, in the database's
    newest-first order."""
    matching = {
        run_id
        for run_id, found in lab.urls.items()
        if any(fold(text) in fold(u) for u in found)
        or fold(text) in fold(lab.dirs[run_id])
        or fold(text).startswith(fold(lab.dirs[run_id]))
    }
    if not matching:
        return []
    ordered = session.scalars(
        sa.select(Run.id).where(Run.id.in_(matching)).order_by(Run.created_at.desc(), Run.id).limit(limit)
    )
    return list(ordered)


def expected_rows(lab: Lab, words: list[str]) -> list[str]:
    every = sorted(u for found in lab.urls.values() for u in found)
    return [u for u in every if all(fold(w) in fold(u) for w in words)]


def urls_of(session: Session, ids: list[int]) -> list[str]:
    by_id = dict(session.execute(sa.select(Output.id, Output.url).where(Output.id.in_(ids))).all())
    return [by_id[i] for i in ids]


LOOKUPS = [
    "s3://lab-a/runs/r03/S03/S03_markdup_01.bam",  # a full URL
    "S3://LAB-A/RUNS/R03/s03/s03_MARKDUP_01.BAM",  # the same, case changed
    "S05_sorted_02.bam",  # a file name
    "s3://lab-b/runs/r04/",  # a run prefix (its outputDir)
    "s3://lab-c/runs/r08",  # a prefix of a run prefix
    "s3://lab-b/",  # a bucket prefix: many runs
    "S3://Lab-B/",
    "s3://lab-",  # every run
    "_00.bam",  # an ending that every run with objects has
    "markdup",
    "s3://lab-a/runs/r03-rerun/S03/S03_markdup_01.bam",  # no match, next to a real run
    "100%_done",  # literal % and _
    "%_",
    "a_b.TXT",
    "mixed/case.bam",
    "s3://lab-b/runs/r01/S01/x.bam",  # run 1 has no such key; run 7 holds it inside a key
    "s3://lab-c/elsewhere/",  # outside every output_dir
    "s3://lab-c/runs/r08/S08/deeper/file.txt",  # under run 8's output_dir, before any row
    "nothing-here",
    "s3",  # short text: no trigram
    "r1",
]


@pytest.mark.parametrize("text", LOOKUPS)
def test_lookup_plans_answer_as_a_plain_scan(session: Session, lab: Lab, text: str) -> None:
    dialect = dialect_of(session)
    for limit in (1, 2, 3, 7, 8, 9, 100):
        expected = expected_runs(session, lab, text, limit)
        for plan in runlookup.PLANS:
            found = runlookup.newest_matching_run_ids(session, dialect, text, limit, plan=plan)
            assert found == expected, (plan, limit)
        assert [r.id for r in lookup.lookup_runs_by_url(session, text=text, limit=limit)] == expected


def test_lookup_without_the_skip_scan_still_answers(
    session: Session, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(urlmatch, "MAX_VARIANT_SEEKS", 1)  # every s3:// text falls back to the trigram plans
    for text in ("s3://lab-b/", "S3://LAB-A/RUNS/R03/", "s3://lab-b/runs/r01/S01/x.bam"):
        assert urlmatch.variant_ranges(session, fold(text), []) is None
        for plan in runlookup.PLANS:
            found = runlookup.newest_matching_run_ids(session, dialect_of(session), text, 5, plan=plan)
            assert found == expected_runs(session, lab, text, 5), plan


def test_the_skip_scan_finds_every_case_variant(session: Session, lab: Lab) -> None:
    ranges = urlmatch.variant_ranges(session, "s3://lab-c/runs/r05/mixed/case.bam", [])
    assert ranges == [("s3://lab-c/runs/r05/Mixed/CASE.Bam", "s3://lab-c/runs/r05/Mixed/CASE.Ban")]
    assert urlmatch.variant_ranges(session, "s3://lab-c/runs/r05/mixed/none", []) == []
    heads = [low for low, _ in urlmatch.variant_ranges(session, "s3://lab-", []) or []]
    assert heads == ["s3://lab-"]


@pytest.fixture
def big_lab(factory: sessionmaker[Session]) -> Lab:
    """400 runs, two objects each: the newest 30 publish to lab-new, the others in turn
    to four buckets (lab-0 .. lab-3), so that a bucket prefix is dense or sparse among
    the newest runs past run-first's trial turns."""
    urls: dict[str, list[str]] = {}
    dirs: dict[str, str] = {}
    with factory.begin() as session:
        for n in range(400):
            run_id = f"run-{n:03d}"
            bucket = "lab-new" if n >= 370 else f"lab-{n % 4}"
            output_dir = f"s3://{bucket}/runs/r{n:03d}/"
            _add_run(session, run_id, output_dir, T0 + timedelta(minutes=n), namespace="lab")
            found = [output_dir + _key(n, k) for k in range(2)]
            outputs.upsert_outputs(session, run_id=run_id, objects=[OutputObject(u, 1) for u in found])
            urls[run_id], dirs[run_id] = found, output_dir
    return Lab(urls, dirs)


@pytest.mark.parametrize(
    ("text", "raced"),
    [
        ("s3://lab-2/", False),  # a quarter of the runs: run-first alone
        ("s3://lab-", False),  # every run
        ("s3://lab-new/", True),  # the newest 30 only: dense at first, then sparse
        ("s3://lab-1/runs/r101/", True),  # one run
        ("s3://lab-1/runs/r101/S101/S101_markdup_01.bam", True),
        ("s3://lab-1/runs/r101-rerun/", True),  # none
    ],
)
def test_run_first_goes_alone_while_the_runs_it_walks_match(
    session: Session, big_lab: Lab, text: str, raced: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    races: list[str] = []

    def race(first: Callable[[], bool], second: Callable[[], bool]) -> bool:
        races.append(text)
        return urlmatch.race(first, second)

    monkeypatch.setattr(runlookup, "race", race)
    for limit in (1, 100):
        races.clear()
        found = runlookup.newest_matching_run_ids(session, dialect_of(session), text, limit)
        assert found == expected_runs(session, big_lab, text, limit)
        if limit == 100:
            assert bool(races) == raced


SEARCHES = [
    ["s3://lab-a/runs/r03/S03/S03_markdup_01.bam"],
    ["S05_SORTED_02.BAM"],
    ["s3://lab-b/runs/r04/"],
    ["s3://lab-b/"],  # many rows
    ["_00.bam"],
    ["markdup", "r1"],  # words together, one short
    ["s3://lab-c/", "sorted"],
    ["100%_done"],
    ["%", "_"],
    ["s3://lab-b/runs/r01/"],  # also inside run 7's key
    ["nothing-here"],
    ["a"],
]


@pytest.mark.parametrize("words", SEARCHES)
def test_search_plans_answer_as_a_plain_scan(session: Session, lab: Lab, words: list[str]) -> None:
    dialect = dialect_of(session)
    hits = expected_rows(lab, words)
    for limit, offset, count_limit in ((100, 0, None), (3, 0, None), (3, 2, 6), (2, 1, 4), (5, 0, 5), (0, 0, 1)):
        page = hits[offset : offset + limit]
        total = len(hits) if count_limit is None else min(len(hits), count_limit)
        for plan in outputsearch.PLANS:
            ids, counted = outputsearch.matching_rows(
                session,
                dialect,
                words,
                run_id=None,
                limit=limit,
                offset=offset,
                count_limit=count_limit,
                plan=plan,
            )
            assert (urls_of(session, ids), counted) == (page, total), (plan, limit, offset, count_limit)
        matches, counted = lookup.search_outputs(
            session, words=words, limit=limit, offset=offset, count_limit=count_limit
        )
        assert ([m.object.url for m in matches], counted) == (page, total)


def test_search_in_one_run_answers_as_a_plain_scan(session: Session, lab: Lab) -> None:
    for words in (["s3://lab-b/runs/r07/"], ["s3://lab-b/"], ["bam"], ["S07", "sorted"]):
        hits = [u for u in sorted(lab.urls["run-07"]) if all(fold(w) in fold(u) for w in words)]
        for plan in outputsearch.PLANS:
            ids, counted = outputsearch.matching_rows(
                session, dialect_of(session), words, run_id="run-07", limit=4, offset=0, count_limit=5, plan=plan
            )
            assert counted == min(len(hits), 5), (words, plan)
            assert len(ids) == min(len(hits), 4), (words, plan)


def test_a_capped_total_is_at_least_the_page(session: Session, lab: Lab) -> None:
    matches, total = lookup.search_outputs(session, words=["s3://lab-"], limit=3, offset=4, count_limit=10)
    assert (len(matches), total) == (3, 10)
    with pytest.raises(ValueError, match="count_limit"):
        lookup.search_outputs(session, words=["x"], count_limit=0)
    with pytest.raises(ValueError, match="plan"):
        runlookup.newest_matching_run_ids(session, dialect_of(session), "x", 1, plan="guess")


PIECES = ["s3://", "S3://", "lab-", "LAB-", "a/", "r0", "%", "_", "x", "X", ".bam", "/", "ß", "日"]
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
keys = st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join)


@PROPERTY
@given(data=st.data(), layout=st.lists(st.lists(keys, max_size=5), min_size=1, max_size=5))
def test_every_plan_matches_the_model(
    factory: sessionmaker[Session], data: st.DataObject, layout: list[list[str]]
) -> None:
    with factory() as session:  # each example rolls back
        lab = Lab({}, {})
        for n, run_keys in enumerate(layout):
            run_id, output_dir = f"run-{n}", f"s3://{BUCKETS[n % 3]}/r{n}/"
            _add_run(session, run_id, output_dir, T0 + timedelta(minutes=n % 3), namespace="ns")
            found = sorted({output_dir + k for k in run_keys})
            outputs.upsert_outputs(session, run_id=run_id, objects=[OutputObject(u, 1) for u in found])
            lab.urls[run_id], lab.dirs[run_id] = found, output_dir
        every = [u for found in lab.urls.values() for u in found] or ["s3://lab-a/"]
        source = data.draw(st.sampled_from(every))
        start = data.draw(st.integers(0, len(source) - 1))
        text = source[start : data.draw(st.integers(start + 1, len(source)))]
        if data.draw(st.booleans()):
            text = text.swapcase()
        limit = data.draw(st.integers(1, 6))
        expected = expected_runs(session, lab, text, limit)
        for plan in runlookup.PLANS:
            assert runlookup.newest_matching_run_ids(session, dialect_of(session), text, limit, plan=plan) == expected
        hits = expected_rows(lab, [text])
        for plan in outputsearch.PLANS:
            ids, total = outputsearch.matching_rows(
                session, dialect_of(session), [text], run_id=None, limit=limit, offset=0, count_limit=4, plan=plan
            )
            assert (urls_of(session, ids), total) == (hits[:limit], min(len(hits), 4)), plan
        session.rollback()
