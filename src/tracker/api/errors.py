"""Errors mapped at the edge: store and domain errors become readable answers
(forbidden 403, not found 404, ambiguous 409, bad parameters 422); a database that cannot be
reached is a 503; anything else a plain 500 that leaks nothing (logged here)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from tracker.api import paths, schemas
from tracker.store.errors import AmbiguousRun, RunNotFound

log = logging.getLogger(__name__)

INTERNAL_ERROR = "internal error"
DATABASE_UNAVAILABLE = "the index database is unavailable"


class ApiProblem(Exception):
    """An error answer with its status; the message is shown to the client as is."""

    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Forbidden(ApiProblem):
    status = 403


class NotFound(ApiProblem):
    status = 404


class BadParameter(ApiProblem):
    status = 422


class Unavailable(ApiProblem):
    status = 503


@contextmanager
def bad_parameters() -> Iterator[None]:
    """Turn the ValueError a repository function raises for a bad argument into a 422."""
    try:
        yield
    except ValueError as error:
        raise BadParameter(str(error)) from error


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(schemas.Problem(detail=detail).model_dump(), status_code=status, headers=headers)


def readable(errors: Sequence[Any]) -> str:
    """`query parameter 'limit': Input should be less than or equal to 1000; ...`"""
    parts = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        where = f"{loc[0]} parameter {'.'.join(loc[1:])!r}" if len(loc) > 1 else ".".join(loc) or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _validation(_request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, RequestValidationError):
        raise TypeError(f"handler for RequestValidationError called with {type(error).__name__}")
    details = list(error.errors())
    body = schemas.ValidationProblem(
        detail=readable(details),
        errors=[
            schemas.FieldError(
                loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
                msg=str(e.get("msg", "")),
                type=str(e.get("type", "")),
            )
            for e in details
        ],
    )
    return JSONResponse(body.model_dump(), status_code=422)


async def _http(_request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, HTTPException):
        raise TypeError(f"handler for HTTPException called with {type(error).__name__}")
    return problem(error.status_code, str(error.detail), dict(error.headers or {}) or None)


async def _api_problem(_request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, ApiProblem):
        raise TypeError(f"handler for ApiProblem called with {type(error).__name__}")
    return problem(error.status, error.detail)


async def _not_found(_request: Request, error: Exception) -> JSONResponse:
    return problem(404, str(error))


async def _ambiguous(_request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, AmbiguousRun):
        raise TypeError(f"handler for AmbiguousRun called with {type(error).__name__}")
    body = schemas.AmbiguousRunProblem(
        detail=str(error),
        candidates=[
            schemas.RunCandidate(
                id=c.id,
                namespace=c.namespace,
                name=c.name,
                run_name=c.run_name,
                url=paths.api_path(paths.RUN, run=c.id),
            )
            for c in error.candidates
        ],
    )
    return JSONResponse(body.model_dump(), status_code=409)


async def _database(request: Request, error: Exception) -> JSONResponse:
    log.error("database error on %s %s: %s", request.method, request.url.path, error)
    return problem(503, DATABASE_UNAVAILABLE)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, INTERNAL_ERROR)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(RunNotFound, _not_found)
    app.add_exception_handler(AmbiguousRun, _ambiguous)
    app.add_exception_handler(OperationalError, _database)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error answers a route can give."""
    described = {
        400: "the request body is not JSON",
        401: "missing or invalid bearer token",
        403: "not allowed for this user",
        404: "not found",
        409: "ambiguous run name",
        413: "larger than the configured limit",
        422: "bad parameters",
        500: "internal error",
        503: "database or token review unavailable",
    }
    models = {409: schemas.AmbiguousRunProblem, 422: schemas.ValidationProblem}
    return {
        status: {"model": models.get(status, schemas.Problem), "description": described[status]} for status in statuses
    }
