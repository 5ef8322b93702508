"""What went wrong in an S3 operation: the exceptions, and reading botocore's ClientError.

Every exception an operation stops with is an `S3OperationError` carrying a `reason`
(what the worker reports as the job's failure reason) and `result`, what the operation
did until then. `error_code`, `is_transient` and `is_denied` classify a ClientError;
`denied` and `denied_as_error` turn S3's AccessDenied into `AccessDenied` naming what
was refused, with a hint at the policies to check.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")
_TRANSIENT = {
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "500",
    "502",
    "503",
    "504",
}
DENIED = {"AccessDenied", "AllAccessDisabled", "403"}


class S3OperationError(RuntimeError):
    """An S3 operation stopped before the end; `result` holds what it did until then."""

    reason = "S3Error"

    def __init__(self, message: str, *, result: object | None = None) -> None:
        super().__init__(message)
        self.result = result


class AccessDenied(S3OperationError):
    reason = "AccessDenied"


class DeleteFailed(S3OperationError):
    """Keys that S3 still refused to delete after every retry; they still exist."""

    reason = "DeleteFailed"

    def __init__(self, message: str, *, failures: list[KeyFailure], result: object | None = None) -> None:
        super().__init__(message, result=result)
        self.failures = failures


class PrefixNotEmpty(S3OperationError):
    reason = "PrefixNotEmpty"


@dataclass(frozen=True)
class KeyFailure:
    key: str
    code: str
    message: str = ""
    version_id: str | None = None


class CopyNotVerified(S3OperationError):
    reason = "CopyNotVerified"


class DestinationConflict(S3OperationError):
    reason = "DestinationConflict"


class SourceChanged(S3OperationError):
    reason = "SourceChanged"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_transient(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(error) in _TRANSIENT or status in (500, 502, 503, 504)


def is_denied(error: ClientError) -> bool:
    return error_code(error) in DENIED


def denied(error: ClientError, what: str) -> AccessDenied:
    detail = error.response.get("Error", {}).get("Message") or "Access Denied"
    return AccessDenied(
        f"S3 denied {what}: {error_code(error)}: {detail}; check the worker's IAM policy and the bucket policy"
    )


def denied_as_error(items: Iterable[T], what: str) -> Iterator[T]:
    """`items` (a listing), with AccessDenied raised as `AccessDenied` naming `what`."""
    try:
        yield from items
    except ClientError as error:
        if is_denied(error):
            raise denied(error, what) from error
        raise
