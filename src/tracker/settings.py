"""The one typed settings object, read from `TRACKER_*` environment variables.

Nested groups use `__`: `TRACKER_WORKER__IMAGE=...`, `TRACKER_S3__ENDPOINT_URL=...`.
Lists and mappings take JSON: `TRACKER_ADMINS__USERS='["alice"]'`. Load it once at a
process's entry point and pass it down; nothing reads the environment elsewhere.
S3 credentials are not settings: boto3 finds them the standard way (environment,
IRSA web identity, instance profile), so they never appear in a spec or a log.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tracker.domain import compute_cost
from tracker.domain.authz import Admins, Principals
from tracker.domain.cost import TierPrices


class ThresholdSettings(BaseModel):
    """Defaults for runs that do not override them in their spec."""

    heartbeat_timeout_seconds: int = Field(300, ge=1)
    stalled_after_seconds: int = Field(600, ge=1)


class RateSettings(BaseModel):
    cpu_hour: float = Field(ge=0, description="USD per CPU-hour requested")
    gib_hour: float = Field(ge=0, description="USD per GiB-hour of memory requested")


_DEFAULT_RATE = compute_cost.ComputePrices().default


class ComputePriceSettings(BaseModel):
    """The estimated compute cost of runs, from their task attempts: a default rate,
    and rates by executor or by machine type (which wins over the executor's)."""

    cpu_hour: float = Field(_DEFAULT_RATE.cpu_hour, ge=0, description="USD per CPU-hour requested")
    gib_hour: float = Field(_DEFAULT_RATE.gib_hour, ge=0, description="USD per GiB-hour of memory requested")
    executors: dict[str, RateSettings] = Field(default_factory=dict, description="executor -> rate")
    machine_types: dict[str, RateSettings] = Field(default_factory=dict, description="machine type -> rate")

    def to_domain(self) -> compute_cost.ComputePrices:
        def rate(r: RateSettings) -> compute_cost.Rate:
            return compute_cost.Rate(cpu_hour=r.cpu_hour, gib_hour=r.gib_hour)

        return compute_cost.ComputePrices(
            default=compute_cost.Rate(cpu_hour=self.cpu_hour, gib_hour=self.gib_hour),
            executors={name: rate(r) for name, r in self.executors.items()},
            machine_types={name: rate(r) for name, r in self.machine_types.items()},
        )


class S3Settings(BaseModel):
    endpoint_url: str | None = None
    region: str = "us-east-1"
    list_page_size: int = Field(1000, ge=1, le=1000)
    delete_batches_in_flight: int = Field(4, ge=1, le=32)
    max_attempts: int = Field(10, ge=1)


class WorkerJobSettings(BaseModel):
    """How the operator builds the Kubernetes Job that runs the worker."""

    namespace: str | None = Field(
        None, description="where worker Jobs run (and their Secrets live); unset: the operator's own namespace"
    )
    image: str = "workflow-tracker:dev"
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    service_account: str = Field("tracker-worker", description="the worker's ServiceAccount in that namespace")
    backoff_limit: int = Field(3, ge=0)
    start_deadline_seconds: int = Field(
        300, ge=1, description="a job whose worker has not started by then (missing Secret, image pull, ...) fails"
    )
    active_deadline_seconds: int = Field(6 * 3600, ge=60)
    ttl_seconds_after_finished: int = Field(24 * 3600, ge=0)
    cpu_request: str = "100m"
    memory_request: str = "256Mi"
    memory_limit: str = "1Gi"
    # Environment the worker pod needs, by reference only (Secret names, never values).
    database_secret: str | None = None
    database_secret_key: str = "url"  # noqa: S105 - the key's name in the Secret, not a value
    s3_credentials_secret: str | None = None
    extra_env: dict[str, str] = Field(default_factory=dict)


class LifecycleSettings(BaseModel):
    """Sharded lifecycle jobs: a delete or move of a run with at least `shard_min_objects`
    indexed outputs runs as a Kubernetes Indexed Job of `shards` worker pods, each on one
    key range of the run's prefix (`tracker.domain.shards`). Below it, one worker pod."""

    shard_min_objects: int = Field(
        1_000_000, ge=0, description="indexed outputs from which a delete or move is sharded; 0: never (off)"
    )
    shards: int = Field(4, ge=1, le=64, description="worker pods of a sharded job (one key range each)")


class AdmissionSettings(BaseModel):
    """How long admission treats a run it cannot use yet as "not ready" (a retry)."""

    run_not_found_grace_seconds: float = Field(
        5, ge=0, description="a run missing at admission may be created in the same apply: retry this long"
    )
    run_not_ready_seconds: float = Field(
        120, ge=0, description="a run without status.id (not yet seen by the operator): retry this long"
    )


class ArchiveSettings(BaseModel):
    """The run archive: the operator removes the custom resources of runs that finished
    long ago (and their finished lifecycle jobs); the index keeps everything, so the
    CLI, the API and the pages still find them. Off by default (0)."""

    after_seconds: int = Field(
        0, ge=0, description="archive terminal runs this long after they completed; 0: never (off)"
    )
    interval_seconds: float = Field(300, ge=1, description="how often the archiver looks for runs due")
    batch: int = Field(100, ge=1, le=10000, description="runs archived per batch (one query, then their deletions)")


class PrincipalSettings(BaseModel):
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)


class AdminSettings(PrincipalSettings):
    """Global admins (users, groups) and admins per compute cluster."""

    clusters: dict[str, PrincipalSettings] = Field(default_factory=dict)

    def to_domain(self) -> Admins:
        return Admins(
            users=tuple(self.users),
            groups=tuple(self.groups),
            clusters={name: Principals(tuple(p.users), tuple(p.groups)) for name, p in self.clusters.items()},
        )


class ApiSettings(BaseModel):
    auth_mode: Literal["none", "token", "kubernetes"] = "none"
    tokens: dict[str, str] = Field(default_factory=dict, description="token -> username")
    base_url: str = ""


class TowerSettings(BaseModel):
    """The Nextflow trace receiver (Tower protocol), served by the API process."""

    enabled: bool = True
    auth_mode: Literal["api", "token", "kubernetes"] = Field(
        "api",
        description="how trace calls are authenticated: `api`, as the read API (refusing every call when that is "
        "`none`), or `token`/`kubernetes` of its own; never unauthenticated",
    )
    base_path: str = Field(
        "/tower", pattern=r"^(/[A-Za-z0-9._~-]+)+$", description="where `-with-tower http://HOST:PORT/tower` points"
    )
    default_namespace: str | None = Field(
        None, description="namespace of runs whose token names none (not a service account)"
    )
    workspaces: dict[str, str] = Field(
        default_factory=dict, description="Nextflow workspaceId -> namespace, for `tower.workspaceId`"
    )
    runs: Literal["index", "kubernetes"] = Field(
        "index", description="write runs into the index only, or as WorkflowRuns (the operator indexes them)"
    )
    status_interval_seconds: float = Field(
        15.0, gt=0, le=120, description="at most one status write per run per interval (phase changes at once)"
    )


class LogSettings(BaseModel):
    """The Logs tab: where the runner's log is when the runner reports none, and how
    much of a log the API reads at once."""

    runner_log_path: str = Field(
        ".nextflow.log",
        min_length=1,
        description="the runner's log under the run's work dir, when the runner reported no logFile; "
        "may use {run_name}, {session_id} and {run_id}",
    )
    tail_bytes: int = Field(1024 * 1024, ge=1, description="how much of the end of a log the page shows")
    max_tail_bytes: int = Field(8 * 1024 * 1024, ge=1, description="the most `?bytes=` may ask for")


class ReportSettings(BaseModel):
    """The Reports tab: the `tracker.yml` manifest and the reports it lists."""

    manifest_max_bytes: int = Field(64 * 1024, ge=1, description="a larger tracker.yml is not read")
    max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="a larger report is not shown (nor proxied)")


class S3ReadSettings(BaseModel):
    """The API's S3 reads (logs, reports); endpoint and region are `s3`'s, credentials
    boto3's standard chain (the chart's optional read-only Secret)."""

    connect_timeout_seconds: float = Field(3, gt=0)
    read_timeout_seconds: float = Field(15, gt=0)
    max_attempts: int = Field(2, ge=1, le=10)
    chunk_bytes: int = Field(256 * 1024, ge=4096, description="a download is streamed in chunks of this size")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRACKER_", env_nested_delimiter="__", extra="ignore")

    database_url: str = "sqlite:///tracker.db"
    namespaces: list[str] = Field(default_factory=list, description="empty: every namespace")
    thresholds: ThresholdSettings = ThresholdSettings()
    prices: TierPrices = TierPrices()
    compute_prices: ComputePriceSettings = ComputePriceSettings()
    s3: S3Settings = S3Settings()
    worker: WorkerJobSettings = WorkerJobSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    admission: AdmissionSettings = AdmissionSettings()
    archive: ArchiveSettings = ArchiveSettings()
    admins: AdminSettings = AdminSettings()
    api: ApiSettings = ApiSettings()
    tower: TowerSettings = TowerSettings()
    logs: LogSettings = LogSettings()
    reports: ReportSettings = ReportSettings()
    s3_reads: S3ReadSettings = S3ReadSettings()
    log_level: str = "INFO"
    peering_lifetime_seconds: int = Field(
        20, ge=5, description="how long a silent operator replica (a crashed pod) blocks a new one"
    )
