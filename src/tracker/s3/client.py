"""boto3 S3 clients configured from settings: endpoint, region, retries, pool size.

Credentials come from boto3's standard chain (environment, web identity, instance
profile); they are never part of the settings.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp

from tracker.settings import S3Settings

if TYPE_CHECKING:
    # The stubs (a dev dependency) type the client boto3 generates at runtime.
    from mypy_boto3_s3 import S3Client as S3Client
else:
    S3Client = Any


def _parse_timestamp(value: str) -> datetime:
    """ISO 8601 the fast way (listings carry one per object), anything else as botocore does.

    botocore's default parser (dateutil) costs about two thirds of the client's CPU in a
    large listing."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return parse_timestamp(value)


def make_client(
    settings: S3Settings,
    *,
    pool: int = 32,
    max_attempts: int | None = None,
    timeouts: tuple[float, float] | None = None,
) -> S3Client:
    """A client; `max_attempts` and `timeouts` (connect, read; seconds) override
    the settings' retries and botocore's 60 s timeouts (the API's reads answer a page)."""
    config = Config(
        region_name=settings.region,
        s3={"addressing_style": "path"} if settings.endpoint_url else {},
        retries={"max_attempts": max_attempts or settings.max_attempts, "mode": "adaptive"},
        max_pool_connections=pool,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    if timeouts is not None:
        config = config.merge(Config(connect_timeout=timeouts[0], read_timeout=timeouts[1]))
    session = botocore.session.get_session()
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=_parse_timestamp)
    return boto3.Session(botocore_session=session).client("s3", endpoint_url=settings.endpoint_url, config=config)
