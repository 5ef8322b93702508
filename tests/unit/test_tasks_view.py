"""The tasks view and Process Detail without a server: the median from the middle
positions (any list of durations), the view's query read from a URL (bad values fall
back to their defaults with a message) and written back into links that keep the
namespace, its sortable columns, and the Process Detail cards of known numbers."""

from __future__ import annotations

import statistics
from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from tracker.api.web import process_view, tasks_view
from tracker.domain.taskstats import ProcessStats, Spread, median_of, median_positions, value_range
from tracker.store.tasks import SORT_KEYS

PROCESSES = ("NF:RNASEQ:FASTQC", "NF:RNASEQ:TRIMGALORE")
PATH = "/runs/sad_einstein/tasks"


@given(st.lists(st.integers(min_value=0, max_value=10**12), max_size=60))
def test_the_median_of_the_middle_positions_is_the_median(durations: list[int]) -> None:
    ordered = sorted(durations)
    positions = median_positions(len(ordered))
    assert len(positions) == (0 if not ordered else 1 if len(ordered) % 2 else 2)
    found = median_of([float(ordered[p]) for p in positions])
    if not ordered:
        assert found is None
    else:
        assert found == statistics.median(ordered)
        assert ordered[0] <= found <= ordered[-1]


def test_value_ranges() -> None:
    assert value_range(2, 2) == "2"
    assert value_range(2, 4, lambda v: f"{v:g} CPUs") == "2 CPUs – 4 CPUs"
    assert value_range(None, 4) is None


def parse(query: str) -> tuple[tasks_view.TasksQuery, list[str]]:
    return tasks_view.parse_tasks_query(parse_qsl(query, keep_blank_values=True), path=PATH, processes=PROCESSES)


def test_a_full_query_round_trips_through_its_url() -> None:
    wanted, notes = parse(
        "namespace=lab&process=NF:RNASEQ:FASTQC&status=cached&status=FAILED&q=3a/7f&sort=-duration_ms&page=2&per_page=10"
    )
    assert notes == []
    assert wanted == tasks_view.TasksQuery(
        path=PATH,
        namespace="lab",
        process="NF:RNASEQ:FASTQC",
        statuses=("CACHED", "FAILED"),
        search="3a/7f",
        sort="-duration_ms",
        page=2,
        per_page=10,
    )
    assert wanted.offset == 10
    url = urlsplit(wanted.url())
    assert url.path == PATH
    assert parse(url.query) == (wanted, [])
    assert tasks_view.TasksQuery(path=PATH).url() == PATH


@given(
    st.sampled_from(["", "process=NOPE", "status=DONE", "sort=size", "sort=-hash", "page=0", "page=x", "per_page=999"]),
    st.text(max_size=5),
)
def test_bad_values_fall_back_to_the_defaults_with_a_message(bad: str, noise: str) -> None:
    wanted, notes = parse(f"namespace=lab&{bad}")
    assert (wanted.process, wanted.statuses, wanted.sort, wanted.page, wanted.per_page) == (
        None,
        (),
        "task_id",
        1,
        tasks_view.PER_PAGE,
    )
    assert len(notes) == (1 if bad else 0)
    assert wanted.namespace == "lab"
    parse(noise)  # anything at all reads without an error


def test_a_search_longer_than_the_bound_is_ignored() -> None:
    wanted, notes = parse("q=" + "a" * 201)
    assert wanted.search is None
    assert notes == ["Ignored the search: give at most 200 characters."]
    assert parse("q=" + "a" * 200)[0].search == "a" * 200


def test_headings_sort_by_store_keys_and_say_which_sorts() -> None:
    assert all(c.key in SORT_KEYS for c in tasks_view.TASK_COLUMNS if c.sortable)
    wanted, _ = parse("namespace=lab&sort=-duration_ms&page=3")
    by_key = {h["key"]: h for h in tasks_view.headings(wanted)}
    assert by_key["duration_ms"]["aria_sort"] == "descending"
    assert by_key["task_id"]["aria_sort"] is None
    assert by_key["hash"]["href"] is None
    assert dict(parse_qsl(urlsplit(by_key["duration_ms"]["href"]).query)) == {"namespace": "lab", "sort": "duration_ms"}
    assert dict(parse_qsl(urlsplit(by_key["name"]["href"]).query)) == {"namespace": "lab", "sort": "name"}
    assert dict(parse_qsl(urlsplit(by_key["peak_rss"]["href"]).query))["sort"] == "-peak_rss"  # numbers: largest first


def test_process_choices_use_short_names_unless_two_share_one() -> None:
    assert tasks_view.process_choices(["A:B:FASTQC", "A:B:TRIM", "X:B:TRIM"]) == [
        ("A:B:FASTQC", "B:FASTQC"),
        ("A:B:TRIM", "A:B:TRIM"),
        ("X:B:TRIM", "X:B:TRIM"),
    ]


def test_cells_show_units() -> None:
    assert tasks_view.millis(208_800) == "3m 28s"
    assert tasks_view.millis(300) == "0.3s"
    assert tasks_view.size(1610612736) == "1.5 GiB"
    assert tasks_view.percent(187.3) == "187.3%"
    assert tasks_view.millis(None) == tasks_view.size(None) == "—"


def test_process_detail_cards_show_known_numbers() -> None:
    stats = ProcessStats(
        process="NF:RNASEQ:TRIMGALORE",
        by_status={"COMPLETED": 2, "RETRIED": 1, "CACHED": 1},
        retry_attempts=1,
        max_attempt=2,
        duration=Spread(count=3, low=110_000, median=299_000, high=350_000),
        cpus_low=2,
        cpus_high=2,
        memory_low=6 << 30,
        memory_high=12 << 30,
        pcpu_mean=187.3,
        pcpu_max=187.3,
        cpu_share=0.9365,
        peak_rss_max=1610612736,
        read_bytes=3 * (4 << 30),
    )
    facts = {f.id: f.value for card in process_view.cards(stats) for f in card.facts}
    assert (stats.attempts, stats.tasks, stats.executed) == (4, 3, 3)
    assert facts["stat-by-status"] == "2 completed, 1 retried, 1 cached"
    assert facts["stat-duration"] == "1m 50s / 4m 59s / 5m 50s"
    assert facts["stat-realtime"] == "—"
    assert facts["stat-cpus"] == "2"
    assert facts["stat-memory"] == "6.0 GiB – 12.0 GiB"
    assert facts["stat-cpu-share"] == "94%"
    assert facts["stat-rss"] == "— / 1.5 GiB"
    assert facts["stat-read"] == "12.0 GiB"
    assert facts["stat-write"] == "—"
