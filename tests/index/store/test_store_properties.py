"""Properties of the output index against a plain Python model, with keys full of
LIKE wildcards, FTS5 syntax, quotes, spaces and unicode: substring lookup and search
(ASCII case folded, nothing else), and prefix rewrites (literal, case-sensitive)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.records import OutputObject, RunRecord
from tracker.store import outputs, runs
from tracker.store.models import Output

# Characters that trip naive implementations, and letters whose case folds (or not).
ALPHABET = [*list("aAbBzZ019 -._%\\\"'*^():/+,=~"), "é", "É", "ß", "ω", "Ω", "日", "🧬", "ı", "K"]
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

texts = st.text(alphabet=st.sampled_from(ALPHABET), min_size=1, max_size=10)
segments = st.text(alphabet=st.sampled_from([c for c in ALPHABET if c != "/"]), min_size=1, max_size=6)


def fold(text: str) -> str:
    """ASCII-only lower case: the index's notion of case-insensitive."""
    return "".join(c.lower() if c.isascii() else c for c in text)


def flip_ascii_case(text: str, mask: int) -> str:
    return "".join(c.swapcase() if c.isascii() and mask >> (i % 30) & 1 else c for i, c in enumerate(text))


def wildcards(text: str, mask: int) -> str:
    """`text` with some characters replaced by LIKE wildcards (and FTS5 quotes)."""
    marks = '_%_"*'
    return "".join(marks[i % len(marks)] if mask >> (i % 30) & 1 else c for i, c in enumerate(text))


def add(session: Session, run_id: str, output_dir: str, keys: list[str]) -> list[str]:
    runs.upsert_run(
        session,
        record=RunRecord(id=run_id, namespace="ns", name=run_id, run_name=run_id, owner="alice", output_dir=output_dir),
    )
    urls = sorted({output_dir + key for key in keys})
    outputs.upsert_outputs(session, run_id=run_id, objects=[OutputObject(u, 1) for u in urls])
    return urls


@PROPERTY
@given(keys_a=st.lists(texts, min_size=1, max_size=8), keys_b=st.lists(texts, max_size=8), data=st.data())
def test_lookup_and_search_match_the_model(
    factory: sessionmaker[Session], keys_a: list[str], keys_b: list[str], data: st.DataObject
) -> None:
    dirs = {"run-a": "s3://bkt/Run %_1/", "run-b": "s3://bkt/run-10/"}
    with factory() as session:  # each example rolls back
        urls = {
            "run-a": add(session, "run-a", dirs["run-a"], keys_a),
            "run-b": add(session, "run-b", dirs["run-b"], keys_b),
        }
        every = [u for found in urls.values() for u in found]
        source = data.draw(st.sampled_from(every))
        start = data.draw(st.integers(0, len(source) - 1))
        end = data.draw(st.integers(start + 1, len(source)))
        piece = source[start:end]
        query = data.draw(
            st.one_of(
                st.just(flip_ascii_case(piece, data.draw(st.integers(0, 2**30)))),  # found
                st.just(wildcards(piece, data.draw(st.integers(0, 2**30)))),  # a LIKE pattern, if any
                texts,
            )
        )

        expected = {run for run, found in urls.items() if any(fold(query) in fold(u) for u in found)}
        expected |= {run for run, d in dirs.items() if fold(query) in fold(d) or fold(query).startswith(fold(d))}
        assert {r.id for r in outputs.lookup_runs_by_url(session, text=query)} == expected

        words = query.split(" ") if data.draw(st.booleans()) else [query]
        hits = sorted(u for u in every if all(fold(w) in fold(u) for w in words if w))
        if any(words):
            matches, total = outputs.search_outputs(session, words=words, limit=1000)
            assert ([m.object.url for m in matches], total) == (hits, len(hits))
        session.rollback()


@PROPERTY
@given(
    segment=segments,
    keys=st.lists(texts, min_size=1, max_size=8),
    extra=segments,
    decoy_keys=st.lists(texts, min_size=1, max_size=4),
    new_segment=segments,
)
def test_rewrite_moves_exactly_the_rows_under_the_literal_prefix(
    factory: sessionmaker[Session],
    segment: str,
    keys: list[str],
    extra: str,
    decoy_keys: list[str],
    new_segment: str,
) -> None:
    old, new = f"s3://src/{segment}/", f"s3://dst/{new_segment}/"
    decoys = {f"s3://src/{segment}{extra}/", f"s3://src/{segment[:-1]}/", flip_ascii_case(old, 2**30 - 1)} - {old}
    with factory() as session:  # each example rolls back
        urls = add(session, "run-1", old, keys)
        for decoy in sorted(decoys):
            urls += [decoy + key for key in decoy_keys]
            outputs.upsert_outputs(session, run_id="run-1", objects=[OutputObject(decoy + k, 1) for k in decoy_keys])
        urls = sorted(set(urls))
        moved = [u for u in urls if u.startswith(old)]

        count = outputs.rewrite_output_paths(session, run_id="run-1", old_prefix=old, new_prefix=new)
        after = session.scalars(select(Output.url).where(Output.run_id == "run-1")).all()
        assert count == len(moved)
        assert sorted(after) == sorted(new + u[len(old) :] if u.startswith(old) else u for u in urls)
        assert runs.get_run(session, ref="run-1").output_dir == new  # type: ignore[union-attr]
        for url in moved:
            assert [r.id for r in outputs.lookup_runs_by_url(session, text=new + url[len(old) :])] == ["run-1"]
        assert outputs.rewrite_output_paths(session, run_id="run-1", old_prefix=old, new_prefix=new) == 0
        session.rollback()
