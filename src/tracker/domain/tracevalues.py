"""Reading values out of trace bodies: dates as Nextflow writes them, numbers that fit
the index's columns, strings without NUL characters (no index can hold them) and
within a column's length. Each failure is a `TraceError` naming the field."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

_FRACTION = re.compile(r"(\.\d{6})\d+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TraceError(ValueError):
    """A trace body that cannot be mapped; the message says which field and why."""


def parse_time(value: Any, *, field: str) -> datetime | None:
    """A date as Nextflow sends it (ISO with any offset or `Z`, up to nanoseconds;
    or epoch milliseconds) as an aware UTC datetime; None for null."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TraceError(f"{field}: expected a date, got {value!r}")
    if isinstance(value, int | float):
        try:  # exact for whole milliseconds (a float division is not)
            return _EPOCH + timedelta(milliseconds=value)
        except (OverflowError, OSError, ValueError) as error:
            raise TraceError(f"{field}: {value!r} is not a usable epoch-milliseconds time") from error
    if not isinstance(value, str):
        raise TraceError(f"{field}: expected a date, got {type(value).__name__}")
    text = _FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise TraceError(f"{field}: {value!r} is not an ISO 8601 date") from error
    if moment.tzinfo is None:
        raise TraceError(f"{field}: {value!r} has no UTC offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise TraceError(f"{field}: {value!r} is out of range") from error


def mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TraceError(f"{field}: expected an object")
    return value


def text(value: Any, field: str, limit: int | None = None) -> str | None:
    """A string (NUL characters dropped: no index can hold them), at most `limit` long."""
    if value is None:
        return None
    if type(value) is str:  # the common case, without the checks below
        text = value.replace("\x00", "") or None
        if text is not None and limit is not None and len(text) > limit:
            raise TraceError(f"{field}: longer than {limit} characters")
        return text
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value).replace("\x00", "") or None
        if text is not None and limit is not None and len(text) > limit:
            raise TraceError(f"{field}: longer than {limit} characters")
        return text
    raise TraceError(f"{field}: expected a string, got {type(value).__name__}")


def clean(value: Any) -> Any:
    """A free-form JSON value (params) without NUL characters in keys or strings."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {str(k).replace("\x00", ""): clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


_INT64, _INT32 = 2**63 - 1, 2**31 - 1
_FLOAT_MAX = sys.float_info.max


def integer(value: Any, field: str) -> int | None:
    if type(value) is int and -_INT64 <= value <= _INT64:  # the common case
        return value
    if value is None or value == "-":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TraceError(f"{field}: expected a number, got {value!r}")
    try:
        number = int(float(value)) if not isinstance(value, int) else value
    except (ValueError, OverflowError) as error:
        raise TraceError(f"{field}: expected a number, got {value!r}") from error
    if abs(number) > _INT64:
        raise TraceError(f"{field}: {value!r} is out of range")
    return number


def number(value: Any, field: str) -> float | None:
    if type(value) is float and -_FLOAT_MAX <= value <= _FLOAT_MAX:  # finite: the common case
        return value
    if value is None or value == "-":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TraceError(f"{field}: expected a number, got {value!r}")
    try:
        number = float(value)
    except ValueError as error:
        raise TraceError(f"{field}: expected a number, got {value!r}") from error
    if number != number or number in (float("inf"), float("-inf")):
        raise TraceError(f"{field}: {value!r} is not a finite number")
    return number


def small(value: Any, field: str) -> int | None:
    """A number that fits a 32-bit column."""
    number = integer(value, field)
    if number is not None and abs(number) > _INT32:
        raise TraceError(f"{field}: {value!r} is out of range")
    return number


def count(value: Any, field: str) -> int:
    number = small(value, field) or 0
    if number < 0:
        raise TraceError(f"{field}: a count cannot be negative")
    return number
