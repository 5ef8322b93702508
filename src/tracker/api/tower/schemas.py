"""Bodies of the trace calls as Nextflow sends them, and the answers it reads.
Fields this receiver does not use are accepted and ignored (newer clients add some)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tracker.domain.nextflow import MAX_TASKS


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")

    instant: int | None = Field(None, description="when the runner sent it (epoch milliseconds)")


class CreateTrace(_Body):
    sessionId: str | None = None
    runName: str | None = None
    projectName: str | None = None
    repository: str | None = None
    workflowId: str | None = Field(None, description="TOWER_WORKFLOW_ID: bind to this existing run")


class BeginTrace(_Body):
    workflow: dict[str, Any] = Field(description="Nextflow's workflow metadata, params and config")
    processNames: list[str] = Field(default_factory=list)
    towerLaunch: bool = False


class ProgressTrace(_Body):
    tasks: list[dict[str, Any]] = Field(
        default_factory=list, max_length=MAX_TASKS, description="task trace records, the latest state of each"
    )
    progress: dict[str, Any] | None = Field(None, description="totals and per-process counters")
    containers: list[Any] = Field(default_factory=list)


class HeartbeatTrace(_Body):
    progress: dict[str, Any] | None = None


class CompleteTrace(_Body):
    workflow: dict[str, Any]
    metrics: list[Any] = Field(default_factory=list)
    progress: dict[str, Any] | None = None


class SchedulerPatch(BaseModel):
    model_config = ConfigDict(extra="allow")

    schedRunId: str | None = None


class TraceAnswer(BaseModel):
    workflowId: str = Field(description="the id the runner uses in every later call (at most 16 characters)")
    watchUrl: str | None = Field(None, description="the run's page")


class TraceUser(BaseModel):
    id: int
    userName: str
    email: str | None = None


class UserInfo(BaseModel):
    user: TraceUser
