"""What every API router shares: the context the app builds once, and the server-key dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import fastapi.routing
from fastapi import APIRouter, Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy import Engine

from seamline.access.service import ApiKeyCache
from seamline.api.params import PlainParams
from seamline.audit.service import AuditWriter
from seamline.core.db import unit_of_work
from seamline.core.errors import Unauthorized
from seamline.core.held import HeldReader
from seamline.core.principal import Principal
from seamline.core.ttl import TtlValue
from seamline.pipeline.registry import Pipeline
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.sources.service import source_names

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass
class ProfilesContext:
    """What the profile API needs, built once by the app."""

    engine: Engine
    identity: Pipeline
    survivorship: SurvivorshipConfig
    audit: AuditWriter
    keys: ApiKeyCache
    source_names: TtlValue[dict[int, str]]
    reads: HeldReader  # the hot reads' snapshots, on a connection the process keeps (core.held)

    @classmethod
    def build(
        cls,
        engine: Engine,
        identity: Pipeline,
        survivorship: SurvivorshipConfig,
        audit: AuditWriter,
        cache_seconds: float,
    ) -> ProfilesContext:
        keys, names = ApiKeyCache(cache_seconds), source_names(engine, cache_seconds)
        return cls(engine, identity, survivorship, audit, keys, names, HeldReader(engine))

    def close(self) -> None:
        """Give back what the context holds (before the engine is disposed)."""
        self.reads.close()


def _state(request: Request) -> ProfilesContext:
    ctx: ProfilesContext = request.app.state.profiles
    return ctx


async def _context(request: Request) -> ProfilesContext:
    # async on purpose: FastAPI runs a plain-def dependency in its thread pool, a hand-off that cost ~7% of a lookup.
    return _state(request)


def _authenticated(request: Request, ctx: ProfilesContext, scope: str) -> Principal:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        raise Unauthorized("a server key is required: Authorization: Bearer sk_…")
    return ctx.keys.authenticate(lambda: unit_of_work(ctx.engine, write=False), auth[7:].strip(), scope)


def requires_key(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """The dependency every server-key route uses: a Bearer sk_… key holding `scope` (checked keys cached)."""

    async def authenticate(request: Request) -> Principal:
        return _authenticated(request, _state(request), scope)

    return authenticate


@dataclass(frozen=True, slots=True)
class ReadAccess:
    """Who reads (a key holding profiles:read) and the profile API's context: `Reader` and `Ctx` in one."""

    principal: Principal
    ctx: ProfilesContext


_ACCESS = "seamline.read_access"


DirectRead = Callable[[Request], Awaitable[Response | None]]
"""A checked read run on a request already routed to it: its answer, or None where FastAPI's handler must answer."""


class _CheckedRead(APIRoute):
    """A hot read's route: the key is checked before FastAPI solves the route's parameters, as a `Reader`
    dependency would be, and the endpoint takes the outcome from `read_access(request)`. FastAPI spent ~40-50 µs
    of CPU solving a dependency per request (py-spy at 600-1,000 reads/s: its cache keys, scopes, the request's
    query and cookies parsed again for the sub-dependency), about as much as the key check and the card's reads.

    `direct(dependant)` is the same read for the route index (api/routing.py), which calls it without FastAPI's
    route handling around it once it has found that this route is the request's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        read = self.direct(_effective_dependant(self))

        async def checked(request: Request) -> Response:
            response = await read(request)
            return response if response is not None else await handler(request)

        return checked

    def direct(self, dependant: Dependant) -> DirectRead:
        """The read for a request routed here, with `dependant` (the route's as included): the key checked, then
        the endpoint called with plain, valid parameters (api/params.py); None where they are not, so FastAPI's
        handler reads them (and answers its own 400)."""
        plain = PlainParams.of(dependant)
        endpoint: Callable[..., Awaitable[Response]] = self.endpoint

        async def read(request: Request) -> Response | None:
            ctx = _state(request)
            request.scope[_ACCESS] = ReadAccess(_authenticated(request, ctx, "profiles:read"), ctx)
            values = plain.values(request) if plain is not None else None
            if values is None:
                return None
            response = await endpoint(**values)
            if not isinstance(response, Response):  # a checked read builds its answer itself (api/answers.py)
                raise TypeError(f"{request.url.path}: a checked read must return a Response")
            return response

        return read


def _effective_dependant(route: APIRoute) -> Dependant:
    """The dependant FastAPI's handler for `route` is being built with: an included router's (with the dependencies
    its inclusion adds, if any) while FastAPI builds it for that router, else the route's own."""
    effective = getattr(fastapi.routing, "_effective_route_context_var", None)
    context = effective.get() if effective is not None else None
    if context is not None and context.original_route is route:
        dependant: Dependant = context.dependant
        return dependant
    return route.dependant


def read_access(request: Request) -> ReadAccess:
    """The key and context `checked_read` routes were given (the key already checked)."""
    access: ReadAccess = request.scope[_ACCESS]
    return access


def checked_read(router: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """`@router.get(path, **options)` for a hot read that needs a key holding profiles:read: the endpoint takes
    `request: Request` and calls `read_access(request)` (see `_CheckedRead`)."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(path, endpoint, methods=["GET"], route_class_override=_CheckedRead, **options)
        return endpoint

    return register


Reader = Annotated[Principal, Depends(requires_key("profiles:read"))]
Writer = Annotated[Principal, Depends(requires_key("profiles:write"))]
Ctx = Annotated[ProfilesContext, Depends(_context)]
