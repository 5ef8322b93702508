"""What the web pages show, by example and by property: state classes, times,
durations and money (`formats`); repository links, the storage-cost breakdown,
process short names and sorting, tabs and the resume command (`presenters`); the
runs list's query and pages (`listing`)."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tracker.api import schemas
from tracker.api.views import outputs_info
from tracker.api.web import formats, listing
from tracker.api.web import presenters as p
from tracker.domain.cost import TierPrices
from tracker.domain.records import OutputsSummary
from tracker.store.runs import SORT_KEYS

GIB = 2**30
T = datetime(2026, 5, 13, 19, 2, 11, tzinfo=UTC)

owners = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True).filter(lambda s: s not in (".", ".."))
hosts = st.sampled_from(["github.com", "gitlab.com", "gitlab.example.org", "git.lab.internal"])


def run(**fields: object) -> schemas.RunDetail:
    base: dict[str, object] = {
        "id": "r1",
        "namespace": "ns",
        "name": "r",
        "run_name": "foo-run-001",
        "owner": "alice",
        "outputs": outputs_info(OutputsSummary(), TierPrices()),
        "workflow": schemas.Workflow(),
    }
    return schemas.RunDetail(**(base | fields))


def execution(**fields: object) -> schemas.Execution:
    return schemas.Execution(**({"current": False, "started_at": T} | fields))


# -- repository links -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        ("https://github.com/nf-core/rnaseq", "https://github.com/nf-core/rnaseq"),
        ("https://github.com/nf-core/rnaseq.git", "https://github.com/nf-core/rnaseq"),
        ("https://github.com/nf-core/rnaseq/", "https://github.com/nf-core/rnaseq"),
        ("https://gitlab.com/group/subgroup/project.git", "https://gitlab.com/group/subgroup/project"),
        ("https://user:s3cret@gitlab.example.org:8443/a/b", "https://gitlab.example.org:8443/a/b"),
        ("HTTPS://GitHub.com/Org/Repo", "https://github.com/Org/Repo"),
        ("http://github.com/nf-core/rnaseq", None),  # only https
        ("git@github.com:nf-core/rnaseq.git", None),
        ("nf-core/rnaseq", None),
        ("https://github.com/nf-core", None),  # no repository name
        ("https://github.com/a/b?tab=x", None),
        ("https://github.com/a/b#readme", None),
        ("https://github.com/a/../b", None),
        ("https://github.com/a/b c", None),
        ('https://github.com/a/b"onmouseover=x', None),
        ("javascript:alert(1)//github.com/a/b", None),
        ("https://[::1/a/b", None),
        ("https://github.com:99999/a/b", None),
        ("", None),
        (None, None),
    ],
)
def test_repository_url(repository: str | None, expected: str | None) -> None:
    assert p.repository_url(repository) == expected


def test_workflow_links_for_a_github_run() -> None:
    links = p.workflow_links(
        schemas.Workflow(repository="https://github.com/nf-core/rnaseq.git", revision="3.14", commit="abc123def")
    )
    assert links.repository_url == "https://github.com/nf-core/rnaseq"
    assert links.revision_url == "https://github.com/nf-core/rnaseq/tree/3.14"
    assert links.commit_url == "https://github.com/nf-core/rnaseq/commit/abc123def"
    assert links.repository == "https://github.com/nf-core/rnaseq.git"  # shown as given


def test_workflow_links_hide_credentials_and_refuse_odd_values() -> None:
    links = p.workflow_links(
        schemas.Workflow(
            repository="https://bot:tok3n@gitlab.com/g/p.git", revision="../../../evil", commit="not-a-sha"
        )
    )
    assert links.repository == "https://gitlab.com/g/p"
    assert "tok3n" not in str(links)
    assert links.revision_url is None
    assert links.commit_url is None
    assert links.revision == "../../../evil"
    assert links.commit == "not-a-sha"
    plain = p.workflow_links(schemas.Workflow(repository="git@github.com:a/b.git", revision="main", commit="abcd"))
    assert (plain.repository_url, plain.revision_url, plain.commit_url) == (None, None, None)


@given(
    hosts,
    owners,
    owners,
    st.sampled_from(["", ".git", "/", ".git/"]),
    st.from_regex(r"[A-Za-z0-9._-]{1,12}(/[A-Za-z0-9_-]{1,8}){0,2}", fullmatch=True),
    st.from_regex(r"[0-9a-f]{7,40}", fullmatch=True),
)
def test_links_of_https_repositories(host: str, owner: str, name: str, suffix: str, revision: str, commit: str) -> None:
    assume(name.removesuffix(".git") and not name.endswith(".git") and revision.split("/")[0] not in (".", ".."))
    links = p.workflow_links(
        schemas.Workflow(repository=f"https://{host}/{owner}/{name}{suffix}", revision=revision, commit=commit)
    )
    assert links.repository_url == f"https://{host}/{owner}/{name}"
    assert links.revision_url == f"{links.repository_url}/tree/{revision}"
    assert links.commit_url == f"{links.repository_url}/commit/{commit}"


@given(st.text(max_size=60), st.text(max_size=20), st.text(max_size=20))
def test_links_are_https_urls_without_markup_or_spaces(repository: str, revision: str, commit: str) -> None:
    links = p.workflow_links(schemas.Workflow(repository=repository, revision=revision, commit=commit))
    for url in (links.repository_url, links.revision_url, links.commit_url):
        if url is not None:
            assert url.startswith("https://")
            assert urlsplit(url).hostname
            assert not re.search(r"[\s\"<>`\\]", url)
            assert "@" not in urlsplit(url).netloc
            assert "/../" not in url + "/"
            assert "/./" not in url + "/"
    if links.revision_url or links.commit_url:
        assert links.repository_url is not None


# -- states, times, money -------------------------------------------------------------
def test_one_class_per_state() -> None:
    classes = [formats.state_class(state) for state in formats.STATES]
    assert classes == [
        "state-submitted",
        "state-running",
        "state-succeeded",
        "state-failed",
        "state-aborted",
        "state-disconnected",
        "state-stalled",
    ]
    assert formats.state_class(None) == formats.state_class("Bogus") == formats.state_class("<b>") == "state-unknown"
    assert formats.job_phase_class("Enqueued") == "state-submitted"
    assert formats.job_phase_class("Running") == "state-running"


def test_times_are_utc() -> None:
    assert formats.when(T) == "2026-05-13T19:02:11Z"
    assert formats.when(T.astimezone(timezone(timedelta(hours=2)))) == "2026-05-13T19:02:11Z"
    assert formats.when(T.replace(tzinfo=None)) == "2026-05-13T19:02:11Z"  # naive is UTC
    assert formats.when(None) == "—"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0s"),
        (45.9, "45s"),
        (60, "1m 0s"),
        (303, "5m 3s"),
        (3600, "1h 0m"),
        (3660, "1h 1m"),
        (7500, "2h 5m"),
        (86400, "1d 0h"),
        (2 * 86400 + 3 * 3600 + 59, "2d 3h"),
        (-5, "0s"),
    ],
)
def test_human_duration(seconds: float | None, text: str) -> None:
    assert formats.human_duration(seconds) == text


@given(st.floats(min_value=0, max_value=10**9))
def test_durations_have_at_most_two_units(seconds: float) -> None:
    text = formats.human_duration(seconds)
    assert re.fullmatch(r"\d+[dhms]( \d+[hms])?", text)


def test_money() -> None:
    assert (formats.money(3.5), formats.money(1234.5), formats.money(0), formats.money(None)) == (
        "$3.50",
        "$1,234.50",
        "$0.00",
        "—",
    )


# -- outputs ----------------------------------------------------------------------------
def test_outputs_show_size_range_and_tiers() -> None:
    view = p.outputs_view(outputs_info(OutputsSummary(4, GIB, indexed_at=T), TierPrices()))
    assert (view.deleted, view.size, view.count, view.indexed) == (False, "1.0 GiB", 4, True)
    assert view.annual_range == "$0.05 – $0.25 / year"
    assert view.tiers == (("Frequent", "$0.25"), ("Infrequent", "$0.15"), ("Archive Instant", "$0.05"))


def test_deleted_outputs_show_who_and_when() -> None:
    view = p.outputs_view(outputs_info(OutputsSummary(4, GIB, T, deleted_at=T, deleted_by="alice"), TierPrices()))
    assert (view.deleted, view.size, view.count, view.annual_range, view.tiers) == (True, "Deleted", 0, None, ())
    assert (view.deleted_by, view.deleted_at) == ("alice", "2026-05-13T19:02:11Z")


def test_job_progress() -> None:
    assert p.job_progress(schemas.JobCounters()) == "—"
    assert p.job_progress(schemas.JobCounters(objects_deleted=2, bytes_deleted=4106)) == "2 objects deleted (4.0 KiB)"
    assert p.job_progress(
        schemas.JobCounters(objects_copied=1, bytes_copied=10, rows_rewritten=1, objects_indexed=3)
    ) == ("1 object copied (10 B); 3 objects indexed; 1 row rewritten")


# -- processes --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("NFCORE_RNASEQ:RNASEQ:FASTQC", "RNASEQ:FASTQC"),
        ("RNASEQ:FASTQC", "RNASEQ:FASTQC"),
        ("FASTQC", "FASTQC"),
        ("A:B:C:D", "C:D"),
        ("", ""),
        ("A::B", ":B"),
        (":", ":"),
    ],
)
def test_process_short_name(name: str, short: str) -> None:
    assert p.process_short_name(name) == short


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters=":"), max_size=6), min_size=1, max_size=6))
def test_short_names_are_the_last_two_segments(segments: list[str]) -> None:
    name = ":".join(segments)
    short = p.process_short_name(name)
    assert name.endswith(short)
    assert short.count(":") == min(1, len(segments) - 1)
    assert short.split(":") == segments[-2:]
    assert p.process_short_name(short) == short


PROCS = [
    schemas.Process(name="X:ALIGN", succeeded=2, failed=1),
    schemas.Process(name="X:fastqc", succeeded=4),
    schemas.Process(name="X:CALL", succeeded=2, failed=3),
]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (None, ["X:ALIGN", "X:fastqc", "X:CALL"]),
        ("bogus", ["X:ALIGN", "X:fastqc", "X:CALL"]),
        ("name", ["X:ALIGN", "X:CALL", "X:fastqc"]),
        ("-name", ["X:fastqc", "X:CALL", "X:ALIGN"]),
        ("succeeded", ["X:ALIGN", "X:CALL", "X:fastqc"]),
        ("-succeeded", ["X:fastqc", "X:ALIGN", "X:CALL"]),
        ("-failed", ["X:CALL", "X:ALIGN", "X:fastqc"]),
    ],
)
def test_sort_processes(sort: str | None, order: list[str]) -> None:
    assert [proc.name for proc in p.sort_processes(PROCS, sort)] == order


@given(
    st.lists(
        st.builds(schemas.Process, name=st.text(max_size=8), succeeded=st.integers(0, 5), failed=st.integers(0, 5)),
        max_size=8,
    ),
    st.sampled_from([key for key, _ in p.PROCESS_COLUMNS]),
    st.booleans(),
)
def test_sorting_processes_orders_and_keeps_every_row(procs: list[schemas.Process], key: str, desc: bool) -> None:
    ordered = p.sort_processes(procs, ("-" if desc else "") + key)
    assert sorted(map(id, ordered)) == sorted(map(id, procs))
    keys = [p.process_short_name(x.name).casefold() if key == "name" else getattr(x, key) for x in ordered]
    assert keys == sorted(keys, reverse=desc)


def test_sort_links_toggle() -> None:
    assert formats.next_sort(None, "failed", descending_first=True) == "-failed"
    assert formats.next_sort("-failed", "failed", descending_first=True) == "failed"
    assert formats.next_sort("failed", "failed", descending_first=True) == "-failed"
    assert formats.next_sort("-failed", "name", descending_first=False) == "name"
    assert (formats.aria_sort("name", "name"), formats.aria_sort("-name", "name"), formats.aria_sort("x", "name")) == (
        "ascending",
        "descending",
        None,
    )


# -- tabs, resume ----------------------------------------------------------------------
def test_tabs_of_a_plain_run_open_on_overview() -> None:
    plain = run(phase="Succeeded", state="Succeeded")
    assert [t.key for t in p.run_tabs(plain)] == ["overview", "timeline", "config", "notes", "logs", "outputs", "jobs"]
    assert [t.key for t in p.run_tabs(plain, has_reports=True)][4:6] == ["logs", "reports"]
    assert p.choose_tab("reports", plain) == "overview"
    assert p.choose_tab("reports", plain, has_reports=True) == "reports"
    assert p.choose_tab(None, plain) == "overview"
    assert p.choose_tab("config", plain) == "config"
    assert p.choose_tab("error", plain) == p.choose_tab("<x>", plain) == "overview"


def test_failed_runs_open_on_their_error_and_resumed_runs_have_history() -> None:
    failed = run(phase="Failed", state="Failed", executions=[execution(current=True), execution()])
    assert [t.key for t in p.run_tabs(failed)] == [
        "overview",
        "error",
        "timeline",
        "config",
        "notes",
        "logs",
        "outputs",
        "jobs",
        "history",
    ]
    assert [t.label for t in p.run_tabs(failed)][1] == "Error & Resume"
    assert p.choose_tab(None, failed) == p.choose_tab("nope", failed) == "error"
    assert p.choose_tab("overview", failed) == "overview"
    assert p.choose_tab("history", failed) == "history"
    assert "history" not in [t.key for t in p.run_tabs(run(executions=[execution(current=True)]))]


def test_task_timeline_tab_is_always_there_after_overview_and_error() -> None:
    failed = run(phase="Failed", state="Failed")
    assert [t.key for t in p.run_tabs(failed)][:3] == ["overview", "error", "timeline"]
    assert [t.label for t in p.run_tabs(run())][1] == "Task Timeline"
    assert p.choose_tab("timeline", run()) == "timeline"


def test_resume_command() -> None:
    assert p.resume_command(run(session_id="sess-2")) == "-resume sess-2 -name foo-run-001"
    assert p.resume_command(run(session_id=None)) is None
    assert p.resume_command(run(session_id="s 1", run_name="it's")) == "-resume 's 1' -name 'it'\"'\"'s'"


@given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
def test_resume_command_is_one_shell_safe_line(session: str, name: str) -> None:
    command = p.resume_command(run(session_id=session, run_name=name))
    assert command is not None
    assert shlex.split(command) == ["-resume", session, "-name", name]


def test_output_crumbs_and_query() -> None:
    assert p.output_crumbs("qc/fastqc/") == [("qc/", "qc/"), ("fastqc/", "qc/fastqc/")]
    assert p.output_crumbs("") == []
    assert formats.query(tab="outputs", namespace=None, dir="qc/", q="") == "?tab=outputs&dir=qc%2F"
    assert formats.query() == "?"


# -- runs list query -------------------------------------------------------------------
def test_list_sorts_are_store_sort_keys() -> None:
    assert set(listing.LIST_SORTS) <= set(SORT_KEYS)


def test_parse_list_query() -> None:
    query, notes = listing.parse_list_query(
        [
            ("state", "Failed"),
            ("state", "Stalled"),
            ("state", "Failed"),
            ("owner", " alice "),
            ("cluster", ""),
            ("q", "foo"),
            ("sort", "-cost"),
            ("page", "2"),
            ("per_page", "10"),
            ("unknown", "x"),
        ]
    )
    assert query == listing.ListQuery(
        states=("Failed", "Stalled"), owner="alice", search="foo", sort="-cost", page=2, per_page=10
    )
    assert notes == []
    assert query.offset == 10


@pytest.mark.parametrize(
    ("params", "note"),
    [
        ([("state", "Bogus")], "Ignored state 'Bogus'"),
        ([("sort", "password")], "Ignored sort 'password'"),
        ([("page", "0")], "Ignored page '0'"),
        ([("page", "x")], "Ignored page 'x'"),
        ([("page", "²")], "Ignored page '²'"),
        ([("per_page", "1000")], "Ignored per_page '1000'"),
    ],
)
def test_bad_list_values_are_ignored_with_a_message(params: list[tuple[str, str]], note: str) -> None:
    query, notes = listing.parse_list_query(params)
    assert query == listing.ListQuery()
    assert len(notes) == 1
    assert notes[0].startswith(note)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["state", "owner", "cluster", "q", "sort", "page", "per_page", "x"]), st.text(max_size=12)
        ),
        max_size=8,
    )
)
def test_list_urls_round_trip(params: list[tuple[str, str]]) -> None:
    query, _ = listing.parse_list_query(params)
    url = query.url()
    assert url.startswith("/runs")
    again, notes = listing.parse_list_query(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert again == query
    assert notes == []


def test_paginate() -> None:
    assert listing.paginate(35, 1, 25, 25) == listing.Pagination(35, 1, 2, 1, 25, None, 2)
    assert listing.paginate(35, 2, 25, 10) == listing.Pagination(35, 2, 2, 26, 35, 1, None)
    assert listing.paginate(0, 1, 25, 0) == listing.Pagination(0, 1, 1, 0, 0, None, None)
    assert listing.paginate(35, 9, 25, 0) == listing.Pagination(35, 9, 2, 0, 0, 2, None)
