"""Route matching by the path's first four segments: a request tests only the routes that could match it.

Starlette and FastAPI find a request's route by testing every route of the app in order until one matches, and
in FastAPI's included routers each test is several calls beside the regex (the router's route list checked for
changes, the request's FastAPI scope keys set and restored) — and the router that matched is searched a second
time to be handled. With ~250 routes in 40 routers, a request near the end of the list (a console page, a health
check, a tracking batch) spent 100-400 µs finding its route, a profile lookup ~15 µs and the consent check ~35 µs
(`benchmarks/routing.py`).

`RouteIndex` sorts the app's top-level routes (each included router as one) into buckets by the first four
segments of the paths they can match, literal or a parameter: `/v1/profiles/123/may-contact` tests only the
routers holding a path that could match it (here the consent API's), in the app's own order. Each bucket is an
`APIRouter` over the same route objects, so FastAPI's own matching runs on it unchanged: the same first full match
wins, a method mismatch is the same 405. Whatever a bucket does not answer (no route there: a 404, a
trailing-slash redirect) goes to the app's router as before, which tests every route. Nothing about a route
changes: its URL, its OpenAPI entry, its dependencies, its errors. The index is built on the first request and
again whenever the app's route list grows.

A route that can run its read directly (the hot reads' `checked_read` routes, api/deps.py) skips the bucket's
routing too: where every route a bucket's key may match is a FastAPI route of an included router, the index tests
their regexes and methods in the app's order itself, and when the first full match is such a read, sets the scope
as FastAPI would (path parameters, endpoint, route) and calls the read. FastAPI's included-router matching (each
router's version check, the scope keys set and restored around each regex, the second search to handle) and its
request wrapper (two exit stacks, an exception wrapper) cost ~30 µs of a ~100 µs lookup in-process. Its errors
still reach the app's exception handlers, through the same middleware; a read that finds its parameters not plain
or not valid hands the request to the bucket, so FastAPI's own handler answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from re import Pattern as Regex
from typing import Any, Final

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.convertors import Convertor
from starlette.routing import BaseRoute, Host, Mount
from starlette.types import Receive, Scope, Send

try:  # newer FastAPI keeps each included router as one route of the app and lists its routes this way
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI copies the included routes into the app's own list
    iter_route_contexts = None  # type: ignore[assignment]  # then every top-level route is its own context

_ANY: Final = "\x00any"  # a segment no route names literally
_NONE: Final = "\x00none"  # the path has no such segment
_REST: Final = "\x00rest"  # a parameter that may hold slashes: everything from here on
_SEGMENTS: Final = 4
_MAX_BUCKETS: Final = 4096
_SINGLE_SEGMENT_CONVERTORS: Final = frozenset({"str", "int", "float", "uuid"})
Pattern = tuple[str, ...]  # the first segments of a path a route can match: literal, _ANY or _REST


def _segment(text: str) -> str:
    if "{" not in text:
        return text
    for part in text.split("{")[1:]:
        convertor = part.partition("}")[0].partition(":")[2] or "str"
        if convertor not in _SINGLE_SEGMENT_CONVERTORS:  # `path`, or one of the app's own that may hold a slash
            return _REST
    return _ANY


def _pattern(path: str, *, mount: bool) -> Pattern:
    """The first `_SEGMENTS` segments of what `path` matches (a mount's path matches everything below it)."""
    if not path.startswith("/"):
        return (_REST,)
    segments = [_segment(s) for s in path.split("/")[1:]]
    if mount:
        segments.append(_REST)
    return tuple(segments[:_SEGMENTS])


def _patterns(route: BaseRoute) -> Iterator[Pattern]:
    """What one top-level route can match; an included router, everything its routes can."""
    if isinstance(route, Host):
        yield (_REST,)
        return
    contexts: Iterable[object] = iter_route_contexts([route]) if iter_route_contexts is not None else [route]
    for context in contexts:
        original = getattr(context, "original_route", context)
        path = getattr(context, "path", None)
        if not isinstance(path, str) or isinstance(original, Host):
            yield (_REST,)
        else:
            yield _pattern(path, mount=isinstance(original, Mount))


def _may_match(pattern: Pattern, key: Pattern) -> bool:
    """Whether a path whose first segments are `key` (literal, _ANY for one no route names, _NONE) may match."""
    for index, wanted in enumerate(key):
        if index >= len(pattern):
            return wanted == _NONE
        have = pattern[index]
        if have == _REST:
            return True
        if wanted == _NONE:
            return False
        if have != _ANY and have != wanted:
            return False
    return True


DirectRead = Callable[[Request], Awaitable[Response | None]]


@dataclass(frozen=True, slots=True)
class _Candidate:
    """One FastAPI route a key may match, as FastAPI matches it, and its direct read if it has one."""

    regex: Regex[str]
    convertors: dict[str, Convertor[Any]]
    methods: frozenset[str]
    route: APIRoute
    read: DirectRead | None


def _candidates(routes: Sequence[BaseRoute], key: Pattern) -> tuple[_Candidate, ...] | None:
    """The routes among `routes` that a path with this key may match, in matching order, when each is a plain
    FastAPI route of an included router and one of them can read directly; otherwise None (the bucket routes)."""
    if iter_route_contexts is None:  # pragma: no cover - older FastAPI: no effective route contexts
        return None
    found: list[_Candidate] = []
    for context in iter_route_contexts(routes):
        path = context.path
        original = context.original_route
        if not isinstance(path, str) or isinstance(original, (Host, Mount)):
            return None
        if not _may_match(_pattern(path, mount=False), key):
            continue
        # FastAPI's own record of the route as included (its prefixed regex, dependant): not a public API, so
        # anything unexpected in it and the bucket routes these requests, as it did before the direct lane.
        effective: Any = getattr(context, "_route_context", None)
        if effective is None or getattr(effective, "starlette_route", None) is not None:
            return None
        if not isinstance(original, APIRoute):
            return None
        try:
            direct = getattr(original, "direct", None)
            read = direct(effective.dependant) if direct is not None else None
            found.append(
                _Candidate(effective.path_regex, effective.param_convertors, frozenset(effective.methods or ()),
                           original, read)
            )  # fmt: skip
        except AttributeError:
            return None
    return tuple(found) if any(c.read is not None for c in found) else None


class RouteIndex:
    """The app router's routes in buckets by the first four path segments; see the module's docstring."""

    def __init__(self, router: APIRouter) -> None:
        self._router = router
        self._app = router.app  # FastAPI's matching over every route: the fallback, and what the buckets run
        self._built_for = -1
        self._literals: list[frozenset[str]] = []
        self._patterns: list[list[Pattern]] = []
        self._buckets: dict[Pattern, APIRouter] = {}
        self._shared: dict[tuple[int, ...], APIRouter] = {}
        self._direct: dict[Pattern, tuple[_Candidate, ...] | None] = {}

    @classmethod
    def install(cls, app: FastAPI) -> RouteIndex | None:
        """Route `app`'s requests through an index, unless its router has middleware or low-priority routes of its
        own (then it is left as it is)."""
        router = app.router
        if router.middleware_stack != router.app or any(True for _ in _low_priority(router)):
            return None
        index = cls(router)
        router.middleware_stack = index
        return index

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        key = self.key(scope)
        if key is None:
            await self._app(scope, receive, send)
            return
        scope.setdefault("router", self._router)
        bucket = self.bucket(key)
        if key not in self._direct:
            self._direct[key] = _candidates(bucket.routes, key)
        candidates = self._direct[key]
        if candidates is not None and scope["type"] == "http" and "fastapi.telemetry" not in scope:
            path = _route_path(scope)
            if path is not None and await _read_directly(candidates, path, scope, receive, send):
                return
        await bucket.app(scope, receive, send)

    def key(self, scope: Scope) -> Pattern | None:
        """The request's bucket: its first four segments, each as a route names it, or _ANY / _NONE."""
        routes = self._router.routes
        if len(routes) != self._built_for:
            self._build(routes)
        path = _route_path(scope)
        if path is None:
            return None
        parts = path.split("/", _SEGMENTS + 1)[1:]
        key = []
        for index in range(_SEGMENTS):
            if index >= len(parts):
                key.append(_NONE)
            else:
                key.append(parts[index] if parts[index] in self._literals[index] else _ANY)
        return tuple(key)

    def bucket(self, key: Pattern) -> APIRouter:
        found = self._buckets.get(key)
        if found is None:
            chosen = tuple(n for n, patterns in enumerate(self._patterns) if any(_may_match(p, key) for p in patterns))
            found = self._shared.get(chosen)
            if found is None:
                found = self._shared[chosen] = self._bucket_router([self._router.routes[n] for n in chosen])
            if len(self._buckets) >= _MAX_BUCKETS:  # keys are combinations of the routes' own words, but bounded
                self._buckets.clear()
                self._direct.clear()
            self._buckets[key] = found
        return found

    def _build(self, routes: Sequence[BaseRoute]) -> None:
        self._patterns = [list(_patterns(route)) for route in routes]
        self._literals = [
            frozenset(
                p[index]
                for patterns in self._patterns
                for p in patterns
                if len(p) > index and p[index] not in (_ANY, _REST)
            )
            for index in range(_SEGMENTS)
        ]
        self._buckets.clear()
        self._shared.clear()
        self._direct.clear()
        self._built_for = len(routes)

    def _bucket_router(self, routes: list[BaseRoute]) -> APIRouter:
        # The app's router's own algorithm on fewer routes; what finds nothing here is the app router's to answer
        # (its trailing-slash redirect and 404), so a bucket neither redirects nor has a default of its own.
        bucket = APIRouter(redirect_slashes=False, default=self._app)
        bucket.routes = routes
        bucket.form_limits = self._router.form_limits
        return bucket


def _route_path(scope: Scope) -> str | None:
    """The path routes match (as Starlette's get_route_path), or None when it is not one a route could match."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        if path == root:
            return None
        if path[len(root)] == "/":
            path = path[len(root) :]
    return path if path.startswith("/") else None


async def _read_directly(
    candidates: Sequence[_Candidate], path: str, scope: Scope, receive: Receive, send: Send
) -> bool:
    """Answer the request with its route's direct read, if FastAPI's matching would pick a route that has one
    (the first full match in order; a method mismatch goes on, as FastAPI's does). False: the bucket answers."""
    method = scope["method"]
    for candidate in candidates:
        match = candidate.regex.match(path)
        if match is None or (candidate.methods and method not in candidate.methods):
            continue
        if candidate.read is None:
            return False
        path_params = dict(scope.get("path_params", {}))
        for name, value in match.groupdict().items():
            path_params[name] = candidate.convertors[name].convert(value)
        scope["path_params"], scope["endpoint"], scope["route"] = path_params, candidate.route.endpoint, candidate.route
        response = await candidate.read(Request(scope, receive, send))
        if response is None:
            return False
        await response(scope, receive, send)
        return True
    return False


def _low_priority(router: APIRouter) -> Iterator[object]:
    # FastAPI's frontend routes are tried after every route has failed; a bucket would try them sooner.
    walk = getattr(router, "_iter_low_priority_routes", None)
    if walk is not None:
        yield from walk()
