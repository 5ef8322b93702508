"""`tracker.yml`: strict parsing (problems listed, never raised) and resolution to indexed outputs."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tracker.domain.reports import MAX_ENTRIES, Entry, parse_manifest, resolve

LIMIT = 64 * 1024
OUT = "s3://lab-results/rnaseq/out/"


def parse(text: str) -> tuple[list[Entry], list[str]]:
    manifest = parse_manifest(text.encode(), max_bytes=LIMIT)
    return list(manifest.entries), list(manifest.problems)


def test_a_manifest_lists_titles_paths_and_how_each_is_shown() -> None:
    entries, problems = parse(
        """
reports:
  - title: MultiQC report
    path: multiqc/multiqc_report.html
  - title: PCA
    path: plots/pca.png
  - title: Counts
    path: tables/counts.csv
  - title: Logo
    path: plots/logo.svg
  - title: Raw
    path: misc/raw.html
    type: file
"""
    )
    assert problems == []
    assert [(e.title, e.kind, e.media_type) for e in entries] == [
        ("MultiQC report", "html", "text/html"),
        ("PCA", "image", "image/png"),
        ("Counts", "file", "text/csv"),
        ("Logo", "file", "image/svg+xml"),  # an SVG can carry script: a download
        ("Raw", "file", "text/html"),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("reports: [", "not valid YAML (line"),
        ("- a\n- b\n", "must be a mapping with a `reports` list"),
        ("reports: {a: 1}", "`reports` must be a list"),
        ("reports: []\nextra: 1", "unknown key 'extra'"),
        ("reports: [{path: a.html}]", "report 1: `title` must be a non-empty string"),
        ("reports: [{title: '  ', path: a.html}]", "`title` must be a non-empty string"),
        ("reports: [{title: A, path: 3}]", "`path` must be a string"),
        ("reports: [{title: A, path: ../b.html}]", "'..' segment"),
        ("reports: [{title: A, path: a/./b.html}]", "'..' segment"),
        ("reports: [{title: A, path: a//b.html}]", "empty"),
        ("reports: [{title: A, path: /etc/passwd}]", "must be relative"),
        ("reports: [{title: A, path: 's3://x/y'}]", "must be relative"),
        ("reports: [{title: A, path: 'a\\\\b'}]", "backslash"),
        ("reports: [{title: A, path: a.html, type: script}]", "`type` must be one of"),
        ("reports: [{title: A, path: a.html, colour: red}]", "unknown key 'colour'"),
        ("reports: [{title: A, path: a.html}, {title: B, path: a.html}]", "listed twice"),
        ("reports: [oops]", "expected a mapping"),
    ],
)
def test_each_problem_is_named(text: str, problem: str) -> None:
    _, problems = parse(text)
    assert any(problem in p for p in problems), problems


def test_too_large_and_not_utf8_are_not_read() -> None:
    assert "larger than" in parse_manifest(b"x" * (LIMIT + 1), max_bytes=LIMIT).problems[0]
    assert "not UTF-8" in parse_manifest(b"\xff\xfe", max_bytes=LIMIT).problems[0]


def test_python_tags_are_refused_by_the_safe_loader() -> None:
    _, problems = parse("reports: !!python/object/apply:os.system ['true']")
    assert problems
    assert "not valid YAML" in problems[0]


def test_at_most_max_entries_are_read() -> None:
    listed = [{"title": f"r{i}", "path": f"r{i}.html"} for i in range(MAX_ENTRIES + 5)]
    entries, problems = parse(yaml.safe_dump({"reports": listed}))
    assert len(entries) == MAX_ENTRIES
    assert any("only the first" in p for p in problems)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
entry_like = st.fixed_dictionaries(
    {},
    optional={
        "title": st.one_of(st.text(max_size=30), json_values),
        "path": st.one_of(st.text(alphabet="ab./\\:", max_size=12), json_values),
        "type": st.sampled_from(["html", "image", "file", "pdf", 1, None]),
        "other": json_values,
    },
)


@given(st.one_of(json_values, st.fixed_dictionaries({"reports": st.lists(entry_like, max_size=6)})))
def test_any_document_parses_to_entries_and_problems_never_an_exception(document: object) -> None:
    manifest = parse_manifest(yaml.safe_dump(document).encode(), max_bytes=LIMIT)
    for entry in manifest.entries:
        assert entry.title.strip()
        assert entry.kind in ("html", "image", "file")
        assert not entry.path.startswith("/")
        assert all(s not in ("", ".", "..") for s in entry.path.split("/"))
        assert entry.kind != "image" or entry.media_type.startswith("image/")


@given(st.binary(max_size=200))
def test_any_bytes_parse_without_an_exception(data: bytes) -> None:
    parse_manifest(data, max_bytes=LIMIT)


def test_only_entries_that_are_indexed_outputs_resolve() -> None:
    entries, _ = parse("reports: [{title: A, path: a.html}, {title: B, path: gone.png}, {title: C, path: c.csv}]")
    manifest = parse_manifest(
        b"reports: [{title: A, path: a.html}, {title: B, path: gone.png}, {title: C, path: c.csv}]", max_bytes=LIMIT
    )
    resolved = resolve(manifest, output_dir=OUT, indexed={OUT + "a.html": 10, OUT + "c.csv": 20})
    assert [(r.number, r.title, r.url, r.size) for r in resolved.reports] == [
        (1, "A", OUT + "a.html", 10),
        (2, "C", OUT + "c.csv", 20),
    ]
    assert resolved.problems == ("'B': gone.png is not an indexed output of this run",)
    assert len(entries) == 3
