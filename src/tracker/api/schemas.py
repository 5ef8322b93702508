"""Response bodies of the read API: pydantic models kept apart from the store's
records (`tracker.api.views` converts). JSON keys are camelCase, as in the custom
resources; the client reads them back into these same models.

Imports only pydantic (and plain `tracker.domain` constants), so the CLI can use the
models without FastAPI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from tracker.domain.notes import MAX_NOTE_CHARS, NOTE_PATTERN, note_problem


class Schema(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
    )


# -- errors ------------------------------------------------------------------------
class Problem(Schema):
    """Every error answer: one readable line."""

    detail: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """A 422: the readable line, and each offending parameter."""

    errors: list[FieldError] = Field(default_factory=list)


class RunCandidate(Schema):
    """A run an ambiguous run name may mean; `url` is its resource, by id."""

    id: str
    namespace: str
    name: str
    run_name: str
    url: str


class AmbiguousRunProblem(Problem):
    """A 409: the run name is used in several namespaces; each run it may mean."""

    candidates: list[RunCandidate] = Field(default_factory=list)


# -- runs --------------------------------------------------------------------------
class Condition(Schema):
    type: str | None = None
    status: str | None = None
    reason: str | None = None
    message: str | None = None
    last_transition_time: str | None = None


class TierCosts(Schema):
    """Annual USD to keep the outputs in each Intelligent-Tiering access tier."""

    frequent: float
    infrequent: float
    archive_instant: float


class OutputsInfo(Schema):
    """The run's outputs summary. Deleted outputs count 0, cost 0, size `Deleted`."""

    count: int
    bytes: int
    size: str = Field(description="human size in binary units, or `Deleted`")
    annual_cost_low: float
    annual_cost_high: float
    annual_cost_by_tier: TierCosts
    indexed_at: datetime | None = None
    deleted: bool = False
    deleted_at: datetime | None = None
    deleted_by: str | None = None


class Workflow(Schema):
    repository: str | None = None
    revision: str | None = None
    commit: str | None = None


class Process(Schema):
    name: str
    succeeded: int = 0
    failed: int = 0
    aborted: int = 0
    running: int = 0
    cached: int = 0
    retried: int = 0
    submitted: int = 0
    pending: int = 0


class Execution(Schema):
    """One execution of a run; `current` is the run's own, the others were resumed."""

    current: bool
    started_at: datetime
    completed_at: datetime | None = None
    duration_seconds: float | None = None
    phase: str | None = None
    error_message: str | None = None
    cost: float | None = None
    session_id: str | None = None


class RunSummary(Schema):
    """A run as listings show it."""

    id: str
    namespace: str
    name: str
    run_name: str
    owner: str
    cluster: str | None = None
    engine: str | None = None
    phase: str | None = None
    state: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    output_dir: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    last_heartbeat_at: datetime | None = None
    duration_seconds: float | None = Field(None, description="completed (or now) minus started")
    cost: float | None = Field(None, description="estimated compute cost, USD")
    outputs: OutputsInfo
    archived: bool = Field(False, description="the run's WorkflowRun was archived: it lives in the index only")
    archived_at: datetime | None = None


class RunDetail(RunSummary):
    """Everything the Run Detail page shows."""

    workflow: Workflow
    work_dir: str | None = None
    session_id: str | None = None
    command_line: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    config_text: str | None = None
    error_message: str | None = None
    peak_concurrency: int | None = None
    disconnected: bool = False
    stalled: bool = False
    conditions: list[Condition] = Field(default_factory=list)
    processes: list[Process] = Field(default_factory=list)
    executions: list[Execution] = Field(default_factory=list, description="newest first")


class Page(Schema):
    total: int
    limit: int
    offset: int


class RunPage(Page):
    items: list[RunSummary]


class ProcessList(Schema):
    run_id: str
    items: list[Process]


# -- outputs -----------------------------------------------------------------------
class OutputFile(Schema):
    url: str
    path: str | None = Field(None, description="relative to the run's outputDir, when under it")
    size: int
    human_size: str
    last_modified: datetime | None = None
    etag: str | None = None
    storage_class: str | None = None
    deleted: bool = False
    deleted_at: datetime | None = None


class OutputDirectory(Schema):
    name: str = Field(description="the subdirectory's name, ending in `/`")
    path: str = Field(description="relative to the run's outputDir, for `dir=`")
    count: int
    bytes: int
    human_size: str
    deleted: int = Field(0, description="objects below it marked deleted")


class RunOutputs(Schema):
    """A directory level of a run's outputs (`dir`), or the outputs matching `q`.

    Browsing pages through the files (every subdirectory is listed; `more` says
    whether files follow); searching pages through the matches, counted in `total`
    up to 100 past the page (`totalIsLowerBound`: at least `total` match)."""

    run_id: str
    run_name: str
    output_dir: str | None = None
    dir: str = ""
    q: str | None = None
    directories: list[OutputDirectory] = Field(default_factory=list)
    files: list[OutputFile] = Field(default_factory=list)
    total: int | None = None
    total_is_lower_bound: bool = False
    more: bool = False
    limit: int
    offset: int


class OutputMatch(OutputFile):
    run_id: str
    run_name: str


class OutputMatchPage(Page):
    """Matches are counted up to 100 past the page: when `totalIsLowerBound`, at
    least `total` rows match."""

    items: list[OutputMatch]
    total_is_lower_bound: bool = False


class LookupResult(Schema):
    url: str
    items: list[RunSummary]


# -- lifecycle jobs ----------------------------------------------------------------
class JobCounters(Schema):
    """tracker.domain.records.JobCounters on the wire (a unit test keeps them equal)."""

    objects_deleted: int = 0
    bytes_deleted: int = 0
    objects_copied: int = 0
    bytes_copied: int = 0
    rows_rewritten: int = 0
    rows_marked_deleted: int = 0
    objects_indexed: int = 0
    objects_to_delete: int = Field(0, description="dry run: objects a delete would delete")
    bytes_to_delete: int = Field(0, description="dry run: bytes a delete would delete")
    objects_to_move: int = Field(0, description="dry run: objects a move would move")
    bytes_to_move: int = Field(0, description="dry run: bytes a move would move")


class Job(Schema):
    id: str
    namespace: str
    name: str
    run: str
    run_id: str | None = None
    operation: str
    destination: str | None = None
    source: str | None = Field(None, description="the run's outputDir the job acted on")
    requested_by: str
    requested_by_groups: list[str] = Field(default_factory=list)
    dry_run: bool = False
    phase: str
    reason: str | None = None
    message: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    kubernetes_job: str | None = None
    counters: JobCounters = JobCounters()


class JobPage(Page):
    items: list[Job]


# -- health ------------------------------------------------------------------------
class Health(Schema):
    status: str


# -- tasks --------------------------------------------------------------------------
class Task(Schema):
    """One task attempt (a retried task is two attempts with two task ids)."""

    execution: str = Field(description="the runner's execution that reported it (a resume is another)")
    task_id: int
    status: str = Field(description="NEW SUBMITTED RUNNING COMPLETED FAILED RETRIED ABORTED CACHED")
    name: str | None = None
    process: str | None = None
    tag: str | None = None
    hash: str | None = None
    attempt: int = 1
    native_id: str | None = None
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    duration_ms: int | None = None
    realtime_ms: int | None = None
    cpus: int | None = Field(None, description="requested")
    memory_bytes: int | None = Field(None, description="requested")
    time_ms: int | None = Field(None, description="requested")
    pcpu: float | None = Field(None, description="%CPU used")
    peak_rss: int | None = None
    read_bytes: int | None = None
    write_bytes: int | None = None
    exit_code: int | None = None
    error_action: str | None = None
    work_dir: str | None = None
    executor: str | None = None
    machine_type: str | None = Field(None, description="the cloud instance type, when the runner reports it")


class TaskPage(Page):
    run_id: str
    items: list[Task]


# -- notes --------------------------------------------------------------------------
class NoteBody(Schema):
    """A note's text (create or edit): plain text, shown escaped."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(
        min_length=1, max_length=MAX_NOTE_CHARS, pattern=NOTE_PATTERN, description="plain text; markup is shown as text"
    )

    @field_validator("body", mode="before")
    @classmethod
    def _usable(cls, body: object) -> object:
        """The readable reason first (the pattern only documents it)."""
        problem = note_problem(body) if isinstance(body, str) else None
        if problem is not None:
            raise ValueError(problem)
        return body


class NoteRevision(Schema):
    """An earlier text of a note, who wrote it and when."""

    body: str
    author: str
    written_at: datetime


class Note(Schema):
    id: int
    run_id: str
    author: str = Field(description="the signed-in user who wrote it")
    body: str
    created_at: datetime
    edited_at: datetime | None = Field(None, description="when the current text replaced an earlier one")
    history: list[NoteRevision] = Field(default_factory=list, description="earlier texts, newest first")


class NotePage(Page):
    run_id: str
    items: list[Note] = Field(description="newest first")


# -- compute cost -------------------------------------------------------------------
class Rate(Schema):
    cpu_hour: float = Field(description="USD per CPU-hour requested")
    gib_hour: float = Field(description="USD per GiB-hour of memory requested")


class PriceModel(Schema):
    """The configured rates (`TRACKER_COMPUTE_PRICES__*`): a machine type's wins over
    its executor's, an executor's over the default."""

    default: Rate
    executors: dict[str, Rate] = Field(default_factory=dict)
    machine_types: dict[str, Rate] = Field(default_factory=dict)


class CostLine(Schema):
    """One process's attempts, or all of the run's, summed. Hours are billed hours
    (realtime, else duration; cached attempts none)."""

    process: str
    attempts: int
    cached: int
    billed: int = Field(description="attempts with billed time")
    unsuccessful: int = Field(description="billed attempts that failed, were retried or aborted")
    billed_hours: float
    longest_ms: int = Field(description="the longest billed attempt")
    mean_ms: int | None = Field(None, description="mean billed time of an attempt")
    cpu_hours: float = Field(description="CPUs requested x billed hours")
    gib_hours: float = Field(description="GiB requested x billed hours")
    cost: float = Field(description="estimated USD")
    unsuccessful_cost: float = Field(description="of it, attempts that failed, were retried or aborted")
    cpu_efficiency: float | None = Field(None, description="CPU used / requested, time-weighted (pcpu / 100 / cpus)")
    memory_efficiency: float | None = Field(None, description="peak RSS / memory requested, time-weighted")
    unused_cpu_hours: float
    unused_gib_hours: float
    wasted_cost: float = Field(description="USD of CPU-hours and GiB-hours requested and not used")
    peak_rss: int | None = Field(None, description="the largest peak RSS of an attempt, bytes")
    memory_bytes: int | None = Field(None, description="the largest memory request, bytes")


class RunCost(Schema):
    """A run's estimated compute cost from its task attempts (all executions), per
    process, with efficiency. `estimated` is true when this is the run's cost (it
    succeeded and was not resumed); `reason` says why not otherwise."""

    run_id: str
    estimated: bool
    reason: str | None = None
    currency: str = "USD"
    prices: PriceModel
    total: CostLine
    processes: list[CostLine] = Field(description="most expensive first")
    slowest: list[str] = Field(description="processes by their longest attempt, longest first (at most 5)")
    most_wasteful: list[str] = Field(description="processes by wasted cost, largest first (at most 5)")
