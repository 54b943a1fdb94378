"""Routing benchmark: CPU to find a request's route in Seamline's app, through every route and through the index.

Prints figures; asserts nothing. In-process, no server and no database: for each path, FastAPI's own matching
(each top-level route's `matches`, then the matched included router's second search for its route, as a request
does) over the app's whole route list, and over the bucket `api/routing.py`'s `RouteIndex` gives the request
(the index's own key and bucket lookup included). CPU time of this process per request.

    python benchmarks/routing.py
    python benchmarks/routing.py --repeat 20000
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.routing import BaseRoute, Match

from seamline.api.routing import RouteIndex
from seamline.app import create_app
from seamline.config import Settings

PATHS = {
    "profile lookup": ("GET", "/v1/profiles/lookup"),
    "profile card": ("GET", "/v1/profiles/123"),
    "consent check": ("GET", "/v1/profiles/123/may-contact"),
    "decision": ("POST", "/v1/decisions"),
    "journey resume": ("GET", "/v1/journeys/abc"),
    "tracking batch": ("POST", "/v1/batch"),
    "console customer page": ("GET", "/console/customers/5"),
    "health check": ("GET", "/healthz"),
}


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"", "headers": []}


def _route(routes: list[BaseRoute], scope: dict[str, Any]) -> object:
    for route in routes:
        match, _child = route.matches(scope)
        if match == Match.FULL:
            inner = getattr(route, "_match", None)
            return inner(scope)[2] if inner is not None else route
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="seamline-routing-bench-"))
    app = create_app(Settings(database_url=f"sqlite:///{folder / 'unused.db'}", data_dir=folder))
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    routes = app.router.routes
    print(f"{len(routes)} top-level routes; load {os.getloadavg()[0]:.1f}")
    for label, (method, path) in PATHS.items():
        key = index.key(_scope(method, path))
        assert key is not None
        bucket = index.bucket(key).routes
        assert _route(bucket, _scope(method, path)) is _route(routes, _scope(method, path)) is not None, path
        started = time.process_time()
        for _ in range(args.repeat):
            _route(routes, _scope(method, path))
        every = (time.process_time() - started) / args.repeat * 1e6
        started = time.process_time()
        for _ in range(args.repeat):
            scope = _scope(method, path)
            found = index.key(scope)
            assert found is not None
            _route(index.bucket(found).routes, scope)
        indexed = (time.process_time() - started) / args.repeat * 1e6
        print(
            f"  {label:<22} {method} {path:<30} every route {every:6.1f} us; "
            f"indexed {indexed:5.1f} us ({len(bucket)} of {len(routes)} routes tested)"
        )
    print(f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
