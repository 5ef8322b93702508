"""Output rows: bulk upsert, summary, marking deleted, path rewrites, directory
listings and the prefix fence (`s3://b/run-1/` never covers `s3://b/run-10/`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.domain.records import OutputObject, OutputsSummary, RunRecord
from tracker.domain.s3url import InvalidS3Url
from tracker.store import outputs, runs
from tracker.store.errors import OutputConflict, RunNotFound
from tracker.store.models import Output
from tracker.store.results import OutputDirectory

T0 = datetime(2026, 5, 13, 19, 0, tzinfo=UTC)
AddRun = Callable[..., RunRecord]


def objects(*keys: str, base: str = "s3://b/run-1/", size: int = 10) -> list[OutputObject]:
    return [OutputObject(base + key, size, T0, f'"{i}"', "STANDARD") for i, key in enumerate(keys)]


def rows(session: Session, run_id: str) -> dict[str, tuple[int, str | None, datetime | None]]:
    found = session.execute(
        select(Output.url, Output.size, Output.etag, Output.deleted_at).where(Output.run_id == run_id)
    )
    return {r.url: (r.size, r.etag, r.deleted_at) for r in found}


def test_upsert_inserts_then_updates_one_row_per_url(session: Session, add_run: AddRun) -> None:
    run = add_run(output_dir="s3://b/run-1/")
    assert outputs.upsert_outputs(session, run_id=run.id, objects=objects("a.bam", "d/b.bam")) == 2
    changed = [OutputObject("s3://b/run-1/a.bam", 99, T0 + timedelta(days=1), '"new"', "GLACIER")]
    assert outputs.upsert_outputs(session, run_id=run.id, objects=changed) == 1
    assert rows(session, run.id) == {
        "s3://b/run-1/a.bam": (99, '"new"', None),
        "s3://b/run-1/d/b.bam": (10, '"1"', None),
    }
    listed = outputs.browse_outputs(session, run_id=run.id).files
    assert [f.object for f in listed] == changed


def test_upsert_consumes_an_iterator_lazily_in_batches(session: Session, add_run: AddRun) -> None:
    run = add_run()
    produced: list[int] = []
    seen_totals: list[tuple[int, int]] = []

    def stream() -> Iterator[OutputObject]:
        for i in range(2_500):
            produced.append(i)
            yield OutputObject(f"s3://b/run-1/f{i:05d}", i)

    written = outputs.upsert_outputs(
        session,
        run_id=run.id,
        objects=stream(),
        batch_size=1000,
        on_batch=lambda total: seen_totals.append((total, len(produced))),
    )
    assert written == 2_500
    assert seen_totals == [(1000, 1000), (2000, 2000), (2500, 2500)]  # never more than a batch ahead
    assert session.scalar(select(func.count()).select_from(Output)) == 2_500


def test_upsert_keeps_the_last_of_duplicate_urls_and_checks_its_arguments(session: Session, add_run: AddRun) -> None:
    run = add_run()
    twice = [OutputObject("s3://b/run-1/x", 1), OutputObject("s3://b/run-1/x", 2)]
    outputs.upsert_outputs(session, run_id=run.id, objects=twice)
    assert rows(session, run.id) == {"s3://b/run-1/x": (2, None, None)}
    with pytest.raises(RunNotFound):
        outputs.upsert_outputs(session, run_id="nope", objects=twice)
    with pytest.raises(ValueError, match="batch_size"):
        outputs.upsert_outputs(session, run_id=run.id, objects=twice, batch_size=0)
    with pytest.raises(ValueError, match="naive datetime"):
        outputs.upsert_outputs(session, run_id=run.id, objects=[OutputObject("s3://b/y", 1, datetime(2026, 1, 1))])


def test_summary_counts_rows_not_marked_deleted(session: Session, add_run: AddRun) -> None:
    run = add_run()
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("a", "b", "c", size=5_000_000_000), seen_at=T0)
    summary = outputs.refresh_outputs_summary(session, run_id=run.id, indexed_at=T0)
    assert summary == OutputsSummary(count=3, bytes=15_000_000_000, indexed_at=T0)
    assert runs.outputs_summary(session, run_id=run.id) == summary
    later = T0 + timedelta(hours=1)
    assert outputs.mark_missing_outputs_deleted(session, run_id=run.id, seen_before=T0, at=later) == 0
    reindex = T0 + timedelta(days=1)
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("a", "b", size=7), seen_at=reindex)
    assert outputs.mark_missing_outputs_deleted(session, run_id=run.id, seen_before=reindex, at=reindex) == 1
    assert rows(session, run.id)["s3://b/run-1/c"][2] == reindex
    assert outputs.refresh_outputs_summary(session, run_id=run.id, indexed_at=reindex) == OutputsSummary(
        count=2, bytes=14, indexed_at=reindex
    )


def test_mark_outputs_deleted_is_idempotent_and_keeps_the_rows(session: Session, add_run: AddRun) -> None:
    run, other = add_run(output_dir="s3://b/run-1/"), add_run(output_dir="s3://b/run-10/")
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("a", "b"))
    outputs.upsert_outputs(session, run_id=other.id, objects=objects("a", base="s3://b/run-10/"))
    outputs.refresh_outputs_summary(session, run_id=run.id, indexed_at=T0)
    at = T0 + timedelta(hours=1)
    assert outputs.mark_outputs_deleted(session, run_id=run.id, at=at, by="alice") == 2
    assert outputs.mark_outputs_deleted(session, run_id=run.id, at=at + timedelta(hours=1), by="bob") == 0
    assert runs.outputs_summary(session, run_id=run.id) == OutputsSummary(
        count=0, bytes=0, indexed_at=T0, deleted_at=at, deleted_by="alice"
    )
    assert {url: deleted for url, (_, _, deleted) in rows(session, run.id).items()} == {
        "s3://b/run-1/a": at,
        "s3://b/run-1/b": at,
    }
    assert [d for _, _, d in rows(session, other.id).values()] == [None]
    with pytest.raises(RunNotFound):
        outputs.mark_outputs_deleted(session, run_id="nope", at=at, by="x")


def test_reindexing_a_listed_object_clears_its_deleted_mark(session: Session, add_run: AddRun) -> None:
    run = add_run()
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("a"))
    outputs.mark_outputs_deleted(session, run_id=run.id, at=T0, by="alice")
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("a"))
    assert rows(session, run.id)["s3://b/run-1/a"][2] is None


def test_rewrite_touches_only_rows_under_the_literal_prefix(session: Session, add_run: AddRun) -> None:
    run = add_run(output_dir="s3://b/run-1/")
    neighbour = add_run(output_dir="s3://b/run-10/")
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("a", "d/b", "d/c"))
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("x", base="s3://b/run-10/"))  # odd, but not ours
    outputs.upsert_outputs(session, run_id=neighbour.id, objects=objects("a", base="s3://b/run-10/"))
    dest = "s3://new-bucket/archive/run-1/"
    assert outputs.rewrite_output_paths(session, run_id=run.id, old_prefix="s3://b/run-1/", new_prefix=dest) == 3
    assert sorted(rows(session, run.id)) == ["s3://b/run-10/x", dest + "a", dest + "d/b", dest + "d/c"]
    assert list(rows(session, neighbour.id)) == ["s3://b/run-10/a"]
    assert runs.get_run(session, ref=run.id).output_dir == dest  # type: ignore[union-attr]
    assert runs.get_run(session, ref=neighbour.id).output_dir == "s3://b/run-10/"  # type: ignore[union-attr]
    # Idempotent: nothing is left under the old prefix.
    assert outputs.rewrite_output_paths(session, run_id=run.id, old_prefix="s3://b/run-1/", new_prefix=dest) == 0
    # And the search index follows the rewrite.
    assert [r.id for r in outputs.lookup_runs_by_url(session, text="archive/run-1/d/b")] == [run.id]
    assert outputs.search_outputs(session, words=["s3://b/run-1/"])[1] == 0


def test_rewrite_prefixes_are_literal_not_like_patterns(session: Session, add_run: AddRun) -> None:
    run = add_run(output_dir="s3://b/a_%/")
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("1", base="s3://b/a_%/"))
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("2", base="s3://b/ab%/"))
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("3", base="s3://b/aX_yz/"))
    assert outputs.rewrite_output_paths(session, run_id=run.id, old_prefix="s3://b/a_%/", new_prefix="s3://c/") == 1
    assert sorted(rows(session, run.id)) == ["s3://b/aX_yz/3", "s3://b/ab%/2", "s3://c/1"]


def test_rewrite_refuses_to_merge_into_existing_rows(session: Session, add_run: AddRun) -> None:
    run = add_run(output_dir="s3://b/old/")
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("a", "b", base="s3://b/old/"))
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("b", base="s3://b/new/"))
    with pytest.raises(OutputConflict, match="nothing was rewritten"):
        outputs.rewrite_output_paths(session, run_id=run.id, old_prefix="s3://b/old/", new_prefix="s3://b/new/")
    assert sorted(rows(session, run.id)) == ["s3://b/new/b", "s3://b/old/a", "s3://b/old/b"]
    assert runs.get_run(session, ref=run.id).output_dir == "s3://b/old/"  # type: ignore[union-attr]
    with pytest.raises(RunNotFound):
        outputs.rewrite_output_paths(session, run_id="nope", old_prefix="s3://b/", new_prefix="s3://c/")


def test_browse_lists_one_level_like_ls(session: Session, add_run: AddRun) -> None:
    run = add_run(output_dir="s3://b/run-1/")
    outputs.upsert_outputs(
        session,
        run_id=run.id,
        objects=objects(
            "multiqc.html",
            "align/s1.bam",
            "align/s2.bam",
            "align/qc/s1.txt",
            "calls/s1.vcf",
            "odd dir %_/x",
            "日本/y",
            size=100,
        ),
    )
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("x", base="s3://b/run-10/"))
    outputs.mark_missing_outputs_deleted(session, run_id=run.id, seen_before=T0, at=T0)  # nothing
    root = outputs.browse_outputs(session, run_id=run.id)
    assert root.directories == [
        OutputDirectory("align/", 3, 300),
        OutputDirectory("calls/", 1, 100),
        OutputDirectory("odd dir %_/", 1, 100),
        OutputDirectory("日本/", 1, 100),
    ]
    assert [f.object.url for f in root.files] == ["s3://b/run-1/multiqc.html"]
    for directory in ("align", "align/"):
        level = outputs.browse_outputs(session, run_id=run.id, directory=directory)
        assert level.directories == [OutputDirectory("qc/", 1, 100)]
        assert [f.object.url for f in level.files] == ["s3://b/run-1/align/s1.bam", "s3://b/run-1/align/s2.bam"]
    odd = outputs.browse_outputs(session, run_id=run.id, directory="odd dir %_")
    assert [f.object.url for f in odd.files] == ["s3://b/run-1/odd dir %_/x"]
    assert outputs.browse_outputs(session, run_id=run.id, directory="nothing") == ([], [])
    assert len(outputs.browse_outputs(session, run_id=run.id, directory="align", limit=1).files) == 1


def test_browse_shows_deleted_rows(session: Session, add_run: AddRun) -> None:
    run = add_run(output_dir="s3://b/run-1/")
    outputs.upsert_outputs(session, run_id=run.id, objects=objects("d/a", "b"))
    outputs.mark_outputs_deleted(session, run_id=run.id, at=T0, by="alice")
    listing = outputs.browse_outputs(session, run_id=run.id)
    assert listing.directories == [OutputDirectory("d/", 1, 10, deleted=1)]
    assert [(f.object.url, f.deleted_at) for f in listing.files] == [("s3://b/run-1/b", T0)]
    assert outputs.browse_outputs(session, run_id=add_run().id) == ([], [])  # no output_dir
    with pytest.raises(RunNotFound):
        outputs.browse_outputs(session, run_id="nope")


def fence(session: Session, prefix: str, run: RunRecord) -> list[str]:
    return [r.run_name for r in outputs.runs_with_outputs_under(session, prefix=prefix, exclude_run_id=run.id)]


def test_fence_run_1_is_not_run_10(session: Session, add_run: AddRun) -> None:
    one = add_run(run_name="run-1", output_dir="s3://b/run-1/")
    ten = add_run(run_name="run-10", output_dir="s3://b/run-10/")
    outputs.upsert_outputs(session, run_id=one.id, objects=objects("a"))
    outputs.upsert_outputs(session, run_id=ten.id, objects=objects("a", base="s3://b/run-10/"))
    assert fence(session, "s3://b/run-1/", one) == []
    assert fence(session, "s3://b/run-10/", ten) == []
    assert fence(session, "s3://b/", one) == ["run-10"]  # a bucket root holds everything


def test_fence_finds_rows_and_output_dirs_under_and_over_the_prefix(session: Session, add_run: AddRun) -> None:
    me = add_run(run_name="me", output_dir="s3://b/proj/")
    stray = add_run(run_name="stray", output_dir="s3://elsewhere/x/")
    nested = add_run(run_name="nested", output_dir="s3://b/proj/sub/")  # not indexed yet
    add_run(run_name="parent", output_dir="s3://b/")
    gone = add_run(run_name="gone", output_dir="s3://b/proj/old/")
    outputs.upsert_outputs(session, run_id=stray.id, objects=objects("z", base="s3://b/proj/stray/"))
    outputs.upsert_outputs(session, run_id=gone.id, objects=objects("z", base="s3://b/proj/old/"))
    outputs.mark_outputs_deleted(session, run_id=gone.id, at=T0, by="alice")
    assert fence(session, "s3://b/proj/", me) == ["stray", "nested", "parent"]
    outputs.mark_outputs_deleted(session, run_id=stray.id, at=T0, by="alice")
    assert fence(session, "s3://b/proj/", me) == ["nested", "parent"]
    assert fence(session, "s3://b/PROJ/", me) == ["parent"]  # keys are case-sensitive: not nested
    assert nested
    assert fence(session, "s3://B/proj/", me) == []
    for not_a_prefix in ("", "s3://b/proj", "S3://B/PROJ/", "b/proj/"):
        with pytest.raises(InvalidS3Url):
            outputs.runs_with_outputs_under(session, prefix=not_a_prefix, exclude_run_id=me.id)
