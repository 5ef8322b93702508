"""Request dependencies as `Annotated` types: the database session, the settings,
the caller, and the query parameters several routes share. Everything comes from
`app.state` (set by `create_app`): there are no module-level singletons."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from sqlalchemy.orm import Session

from tracker.api.auth import ANONYMOUS, ReviewUnavailable, User
from tracker.settings import Settings

MAX_LIMIT = 1000
COUNT_AHEAD = 100  # output searches count matches up to this many past the page
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
MAX_OFFSET = 1_000_000_000


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A read-only session for the request, closed after the answer."""
    with request.app.state.sessions() as session:
        yield session


def current_user(request: Request) -> User:
    user: User = getattr(request.state, "user", ANONYMOUS)
    return user


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CurrentUser = Annotated[User, Depends(current_user)]

bearer = HTTPBearer(auto_error=False, description="a static API token or a Kubernetes bearer token")
UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]
) -> User:
    """The guard of every `/api/v1` route when authentication is on."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer TOKEN)", headers=UNAUTHENTICATED)
    try:
        user: User | None = request.app.state.authenticator.authenticate(credentials.credentials)
    except ReviewUnavailable as error:
        raise HTTPException(503, str(error)) from error
    if user is None:
        raise HTTPException(401, "invalid bearer token", headers=UNAUTHENTICATED)
    request.state.user = user
    return user


def anonymous(request: Request) -> User:
    """The guard when authentication is off (`auth_mode: none`)."""
    request.state.user = ANONYMOUS
    return ANONYMOUS


def known_query_only(request: Request) -> None:
    """Refuse query parameters the route does not take (a typo such as `status=`
    for `state=` would otherwise silently match everything), and a single-valued
    parameter given twice (which value would count?). What a route takes is read
    from the app's own OpenAPI document, so it is declared once, in its signature."""
    route = request.scope.get("route")
    operation = (getattr(route, "path_format", ""), request.method.lower())
    known = declared_query_parameters(request.app).get(operation, {})
    names = [name for name, _ in request.query_params.multi_items()]  # one entry per occurrence
    unknown = [name for name in dict.fromkeys(names) if name not in known]
    if unknown:
        takes = f"this route takes {', '.join(sorted(known))}" if known else "this route takes none"
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": f"unknown query parameter ({takes})", "type": "extra_forbidden"}
                for name in unknown
            ]
        )
    repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1 and not known[name]]
    if repeated:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "given more than once; it takes one value", "type": "value_error"}
                for name in repeated
            ]
        )


def declared_query_parameters(app: FastAPI) -> dict[tuple[str, str], dict[str, bool]]:
    """Per operation (path template, lower-case method): the query parameters it
    declares in the OpenAPI document, each with whether it may repeat (an array).
    Built on first use and kept in `app.state`."""
    table: dict[tuple[str, str], dict[str, bool]] | None = app.state.query_parameters
    if table is None:
        table = app.state.query_parameters = {
            (path, method): {
                p["name"]: _is_array(p.get("schema", {}))
                for p in operation.get("parameters", [])
                if p.get("in") == "query"
            }
            for path, item in app.openapi().get("paths", {}).items()
            for method, operation in item.items()
            if isinstance(operation, dict)
        }
    return table


def _is_array(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_is_array(s) for s in schema.get("anyOf", []) + schema.get("oneOf", []))


def rfc3339_only(value: Any) -> Any:
    """Refuse a bare number where a time is expected (pydantic would read it as a
    Unix timestamp; the API documents RFC 3339)."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        raise ValueError("expected an RFC 3339 time such as 2026-05-13T19:02:11Z")
    return value


Rfc3339 = BeforeValidator(rfc3339_only)


# -- shared query parameters ----------------------------------------------------------
Limit = Annotated[int, Query(ge=0, le=MAX_LIMIT, description="page size")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
Namespace = Annotated[
    str | None, Query(description="namespace: restricts the listing, or picks a run name's namespace")
]


def utc_bound(moment: datetime | None) -> datetime | None:
    """A time-range bound as an aware UTC datetime (naive means UTC). A bound too
    close to the ends of the calendar to convert is clamped to them."""
    if moment is None:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if moment.year < 5000 else datetime.max.replace(tzinfo=UTC)


def has_nul(*values: str | None) -> bool:
    """No indexed value holds a NUL character (PostgreSQL text cannot): a filter
    with one matches nothing."""
    return any(value is not None and "\x00" in value for value in values)
