"""boto3 S3 clients configured from settings: endpoint, region, retries, pool size.

Credentials come from boto3's standard chain (environment, web identity, instance
profile); they are never part of the settings.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from tracker.settings import S3Settings

S3Client = Any  # boto3 generates its client classes at runtime


def make_client(settings: S3Settings, *, pool: int = 32) -> S3Client:
    config = Config(
        region_name=settings.region,
        s3={"addressing_style": "path"} if settings.endpoint_url else {},
        retries={"max_attempts": settings.max_attempts, "mode": "adaptive"},
        max_pool_connections=pool,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client("s3", endpoint_url=settings.endpoint_url, config=config)
