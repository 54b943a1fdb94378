"""A checked read's parameters read without FastAPI's solver (api/params.py) are FastAPI's own values, and every
request FastAPI would refuse is left to FastAPI (so its 400 answers, naming the field, stay as they were)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_params_to_args
from fastapi.routing import iter_route_contexts
from starlette.datastructures import QueryParams
from starlette.responses import Response

from seamline.api.deps import _CheckedRead
from seamline.api.params import PlainParams
from seamline.app import create_app
from seamline.config import Settings

QUERIES = [
    "purpose=marketing&channel=email",
    "purpose=marketing&channel=email&topic=news&product=card",
    "purpose=a&purpose=b&channel=",  # a repeated key: its last value; an empty value is a value
    "purpose=%C3%A9t%C3%A9&channel=sms&topic=",
    "channel=email",  # purpose missing
    "",
    "identifier=email:ada@example.com",
    "identifier=",
    "purpose=a+b&channel=e%2Bmail",  # a plus is a space, an escape is unquoted
    "purpose=marketing&&channel=email&",  # empty pairs are skipped
    "purpose&channel=email",  # a name without a value: an empty value (purpose is then "", a valid str)
    "purpose=x=y&channel=email",  # the value holds "="
    "identifier=email:ada@example.com&identifier=phone:+44",
]
PATHS = ["1", "987654", "0", "-5", "007", "abc", "1.5", "99999999999999999999", " 12", "١٢"]  # the last: Arabic digits


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    folder: Path = tmp_path_factory.mktemp("params")
    return create_app(Settings(database_url=f"sqlite:///{folder / 'unused.db'}", data_dir=folder))


def _checked_reads(app: FastAPI) -> dict[str, Dependant]:
    found = {}
    for context in iter_route_contexts(app.router.routes):
        if isinstance(context.original_route, _CheckedRead):
            found[str(context.path)] = context.dependant
    return found


class _Request:
    """What `PlainParams.values` reads of a request: its path parameters and query string (as a server gives it)."""

    def __init__(self, path_params: dict[str, str], query: str) -> None:
        self.path_params = path_params
        self.scope = {"query_string": query.encode()}
        self.query_params = QueryParams(query.encode())


def _fastapis(dependant: Dependant, path_params: dict[str, str], query: str) -> dict[str, Any] | None:
    path, path_errors = request_params_to_args(dependant.path_params, path_params)
    found, query_errors = request_params_to_args(dependant.query_params, QueryParams(query.encode()))
    return None if path_errors or query_errors else {**path, **found}


def test_the_hot_reads_parameters_are_plain(app: FastAPI) -> None:
    reads = _checked_reads(app)
    assert set(reads) == {"/v1/profiles/lookup", "/v1/profiles/{profile_id}", "/v1/profiles/{profile_id}/may-contact"}
    for dependant in reads.values():
        assert PlainParams.of(dependant) is not None


def test_values_are_fastapis_and_what_fastapi_refuses_is_left_to_it(app: FastAPI) -> None:
    compared = refused = 0
    for dependant in _checked_reads(app).values():
        plain = PlainParams.of(dependant)
        assert plain is not None
        for raw_id in PATHS if dependant.path_params else [""]:
            path_params = {"profile_id": raw_id} if dependant.path_params else {}
            for query in QUERIES:
                request = _Request(path_params, query)
                ours = plain.values(request)  # type: ignore[arg-type]  # duck-typed: path_params, scope, query_params
                expected = _fastapis(dependant, path_params, query)
                if expected is None:
                    assert ours is None, (path_params, query)
                    refused += 1
                else:
                    assert ours is not None, (path_params, query)
                    assert ours.pop("request") is request
                    assert ours == expected, (path_params, query)
                    assert [type(v) for v in ours.values()] == [type(v) for v in expected.values()]
                    compared += 1
    assert compared > 20
    assert refused > 20


def test_other_parameters_are_not_plain() -> None:
    app = FastAPI()

    @app.get("/a/{x}")
    async def listed(request: Request, x: int, tags: Annotated[list[str], Query()]) -> Response:
        return Response()

    @app.get("/b")
    async def defaulted(request: Request, limit: int = 10) -> Response:
        return Response()

    @app.get("/c")
    async def aliased(request: Request, kind: Annotated[str, Query(alias="type")]) -> Response:
        return Response()

    @app.get("/d")
    async def no_request(kind: str) -> Response:
        return Response()

    routes = [c for c in iter_route_contexts(app.router.routes) if c.path in ("/a/{x}", "/b", "/c", "/d")]
    assert len(routes) == 4
    for context in routes:
        assert PlainParams.of(context.dependant) is None, context.path
