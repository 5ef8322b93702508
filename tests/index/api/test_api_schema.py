"""Property-based: schemathesis generates requests for every operation of the live
OpenAPI document, valid and invalid ones, and checks each answer with its default
checks: never a 5xx, a documented status code and content type, a body and headers
that conform to the schema, invalid input refused, valid input accepted, and the
bearer token enforced.

(The operations are listed from the app's OpenAPI document at collection, then
each is driven with Hypothesis directly: schemathesis' lazy pytest fixture loader
does not work with pytest 9.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import schemathesis
from api_seed import TOKEN
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings

from tracker.api.app import create_app
from tracker.api.paths import OPENAPI
from tracker.settings import ApiSettings, Settings

CONFIG = schemathesis.Config.from_dict({"auth": {"openapi": {"HTTPBearer": {"bearer": TOKEN}}}})
EXAMPLES = 30  # per operation and generation mode


VALID, INVALID = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE


def operations() -> list[tuple[str, str, schemathesis.GenerationMode]]:
    """(METHOD, path, mode) of every documented operation, with invalid requests for
    those that take parameters (building the app does no I/O)."""
    app = create_app(Settings(api=ApiSettings(auth_mode="token", tokens={TOKEN: "alice"})), sessions=None)  # type: ignore[arg-type]
    return [
        (method.upper(), path, mode)
        for path, item in app.openapi()["paths"].items()
        for method, spec in item.items()
        for mode in ((VALID, INVALID) if spec.get("parameters") else (VALID,))
    ]


@pytest.fixture
def api_schema(make_app: Callable[..., FastAPI]) -> Iterator[schemathesis.BaseSchema]:
    """The API as `tracker-api` serves it: with read-write sessions (notes are written)."""
    with TestClient(make_app(writable=True, auth_mode="token", tokens={TOKEN: "alice"})) as client:
        yield schemathesis.openapi.from_asgi(OPENAPI, client.app, config=CONFIG)


def test_every_operation_is_covered() -> None:
    assert len({(method, path) for method, path, _ in operations()}) == 23


@pytest.mark.parametrize(("method", "path", "mode"), operations(), ids=lambda v: getattr(v, "value", v))
def test_operation_conforms_and_never_fails(
    api_schema: schemathesis.BaseSchema, method: str, path: str, mode: schemathesis.GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same examples every run: CI stays reproducible
        phases=[Phase.explicit, Phase.generate],
    )  # no shrinking: keep a failing run short
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate()

    check()
