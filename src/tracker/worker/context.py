"""What one worker run needs: settings, Kubernetes and S3 clients, the index, a reporter,
and for one pod of a sharded job, its shard (None: the whole prefix)."""

from __future__ import annotations

from dataclasses import dataclass

from kubernetes import client
from sqlalchemy.orm import Session, sessionmaker

from tracker.domain.shards import Shard
from tracker.s3.client import S3Client
from tracker.settings import Settings
from tracker.worker.reporter import JobReporter


@dataclass
class WorkerContext:
    settings: Settings
    api: client.ApiClient
    sessions: sessionmaker[Session]
    s3: S3Client
    reporter: JobReporter
    shard: Shard | None = None
