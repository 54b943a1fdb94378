"""The route index (api/routing.py) finds, for every route of the app, the route FastAPI's own matching over every
route finds — the same first full match, the same method mismatch — and leaves what no bucket answers to the app's
router: its 404, its trailing-slash redirect."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match, Mount

from seamline.api.routing import RouteIndex
from seamline.app import create_app
from seamline.config import Settings

METHODS = ("GET", "POST", "DELETE")
SAMPLES = ("123", "search", "resume")  # a parameter may hold a word that other routes name literally


def _scope(path: str, method: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}


def _found(routes: list[BaseRoute], path: str, method: str) -> tuple[Match, object]:
    """What FastAPI's matching settles on among `routes`: the first full match, else the first partial one."""
    partial: tuple[Match, object] | None = None
    for route in routes:
        scope = _scope(path, method)
        match, _child = route.matches(scope)
        if match == Match.NONE:
            continue
        inner = getattr(route, "_match", None)  # an included router: which of its routes
        chosen = inner(scope)[2] if inner is not None else route
        if match == Match.FULL:
            return match, chosen
        if partial is None:
            partial = (match, chosen)
    return partial or (Match.NONE, None)


def _paths(app: FastAPI) -> Iterator[str]:
    """A concrete path for every route and mount of the app, its parameters filled with sample values."""
    for context in iter_route_contexts(app.router.routes):
        path = context.path
        assert isinstance(path, str)
        if isinstance(context.original_route, Mount):
            path += "/some/file.css"
        for sample in SAMPLES:
            yield re.sub(r"\{[^}]+\}", sample, path)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    folder: Path = tmp_path_factory.mktemp("routing")
    return create_app(Settings(database_url=f"sqlite:///{folder / 'unused.db'}", data_dir=folder))


def test_the_app_routes_through_the_index(app: FastAPI) -> None:
    assert isinstance(app.router.middleware_stack, RouteIndex)


def test_every_route_is_found_in_its_bucket_as_among_all_routes(app: FastAPI) -> None:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    checked = 0
    for path in sorted(set(_paths(app))):
        for probe in (path, path + "/", path + "x/extra"):
            for method in METHODS:
                key = index.key(_scope(probe, method))
                if key is None:  # not a path from the root: the app's router tests every route
                    continue
                bucket = index.bucket(key).routes
                expected = _found(app.router.routes, probe, method)
                assert _found(bucket, probe, method) == expected, (method, probe)
                checked += expected[0] != Match.NONE
    assert checked > 300  # the probes reach the routes (a broken sample would make this trivially pass)


def test_the_hot_reads_test_one_router(app: FastAPI) -> None:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    for path in ("/v1/profiles/lookup", "/v1/profiles/12", "/v1/profiles/12/may-contact"):
        key = index.key(_scope(path, "GET"))
        assert key is not None
        assert len(index.bucket(key).routes) == 1, path


def test_what_no_bucket_answers_is_the_app_routers(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        missing = client.get("/v1/no-such-thing")
        assert missing.status_code == 404
        assert missing.json()["code"] == "http_error"
        assert client.get("/nothing/here/at/all/deeper").status_code == 404
        wrong_method = client.delete("/v1/profiles/lookup")
        assert wrong_method.status_code == 405
        assert "GET" in wrong_method.headers["allow"]
        redirected = client.get("/healthz/", follow_redirects=False)
        assert redirected.status_code == 307
        assert redirected.headers["location"].endswith("/healthz")


def test_a_route_added_later_is_found() -> None:
    app = FastAPI()
    router = APIRouter(prefix="/v1/things")

    @router.get("/{thing}")
    async def thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    app.include_router(router)
    assert RouteIndex.install(app) is not None
    with TestClient(app) as client:
        assert client.get("/v1/things/a").json() == {"thing": "a"}
        assert client.get("/v1/later").status_code == 404

        @app.get("/v1/later")
        async def later() -> dict[str, bool]:
            return {"later": True}

        assert client.get("/v1/later").json() == {"later": True}
        assert client.get("/v1/things/b").json() == {"thing": "b"}


def test_a_path_parameter_may_span_segments() -> None:
    app = FastAPI()

    @app.get("/files/{rest:path}")
    async def files(rest: str) -> dict[str, str]:
        return {"rest": rest}

    @app.get("/{anything}/fixed")
    async def fixed(anything: str) -> dict[str, str]:
        return {"anything": anything}

    assert RouteIndex.install(app) is not None
    with TestClient(app) as client:
        assert client.get("/files/a/b/c/d/e").json() == {"rest": "a/b/c/d/e"}
        assert client.get("/zzz/fixed").json() == {"anything": "zzz"}
        assert client.get("/files/fixed").json() == {"rest": "fixed"}  # the first route still wins
