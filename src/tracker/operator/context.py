"""What every handler needs, built once at operator start-up and kept in kopf's memo."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubernetes import client
from sqlalchemy.orm import Session, sessionmaker

from tracker.kube.asyncstatus import AsyncStatus
from tracker.kube.client import current_identity, load_api_client, own_namespace
from tracker.operator.deadlines import Deadlines
from tracker.settings import Settings
from tracker.store.engine import make_engine, migrate, session_factory


@dataclass
class OperatorContext:
    settings: Settings
    api: client.ApiClient
    sessions: sessionmaker[Session]
    identity: str
    identity_groups: tuple[str, ...]
    worker_namespace: str = "default"
    start_deadlines: Deadlines[tuple[str, str]] = field(
        default_factory=lambda: Deadlines(name="start deadline of lifecycle job")
    )
    mirrored: dict[tuple[str, str], Any] = field(default_factory=dict)
    heartbeats: dict[str, datetime] = field(default_factory=dict)  # run id -> heartbeat not yet in the index
    _admissions: dict[str, asyncio.Lock] = field(default_factory=dict)
    _async_status: AsyncStatus | None = None

    def admission_lock(self, namespace: str) -> asyncio.Lock:
        """Admits a namespace's lifecycle jobs one at a time, in the order they arrived
        (asyncio locks are fair), so no two mutating jobs of a run are ever admitted at
        once and of two requests in one apply, the first listed is met first."""
        return self._admissions.setdefault(namespace, asyncio.Lock())

    @property
    def async_status(self) -> AsyncStatus:
        """Status patches without a thread (the runs' hot path), with `api`'s credentials."""
        if self._async_status is None:
            self._async_status = AsyncStatus(self.api.configuration)
        return self._async_status

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    @property
    def batch(self) -> client.BatchV1Api:
        return client.BatchV1Api(self.api)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)


def build_context(settings: Settings) -> OperatorContext:
    engine = make_engine(settings.database_url)
    migrate(engine)
    api = load_api_client()
    user, groups = current_identity(api)
    return OperatorContext(
        settings=settings,
        api=api,
        sessions=session_factory(engine),
        identity=user,
        identity_groups=groups,
        worker_namespace=worker_namespace(settings),
    )


def worker_namespace(settings: Settings) -> str:
    """Where worker Jobs run: `worker.namespace`, else the operator's own namespace."""
    return settings.worker.namespace or own_namespace() or "default"
