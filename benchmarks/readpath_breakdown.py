"""Where a hot read's CPU goes, in-process: each part timed on its own, and the whole request three ways.

Prints figures; asserts nothing. The app's lifespan runs (audit writer, held read connection) on a SQLite file with
--profiles profiles (`readpath.fill`). For each route (lookup, card, consent check):

- the whole request through the ASGI app, `--concurrency` requests at a time, every answer audited: the event
  loop thread's CPU and the process's (the audit writer thread and the driver included), and commits per answer;
- the same with the audit entry left out (its call replaced by nothing): the difference is the audit entry, its
  hand-off to the writer thread, the commit and the wake-ups back;
- the route's read called straight on a request (no middleware, no routing): the difference from the line before
  is the framework (FastAPI's middleware and the route index);
- the parts of the read, each in a loop of its own on warm caches: key check, parameters, identifier parsing, the
  read snapshot's BEGIN and ROLLBACK, each statement, survivorship, the answer's serialization, the audit entry.

    python benchmarks/readpath_breakdown.py                       # 20k profiles in a temporary folder
    python benchmarks/readpath_breakdown.py --workdir /tmp/rp --concurrency 1   # every entry a commit of its own
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request

import seamline.api.consent as consent_api
import seamline.api.profiles as profiles_api
from seamline.api import answers, routing
from seamline.api.deps import _CheckedRead
from seamline.api.params import PlainParams
from seamline.audit.service import _row
from seamline.communications.reachability import reachability
from seamline.consent.service import may_contact_profile
from seamline.core.db import unit_of_work
from seamline.core.principal import Principal
from seamline.identity.card_reads import _FIND, _HEADER, _LINKS
from seamline.identity.service import parse_identifier
from seamline.profiles.card_reads import card_rows
from seamline.profiles.service import card_facts, golden_traits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inprocess import running
from readpath_inprocess import ROUTES, _get, filled_app

PATHS = {"lookup": "/v1/profiles/lookup", "card": "/v1/profiles/{profile_id}",
         "consent": "/v1/profiles/{profile_id}/may-contact"}  # fmt: skip


def each(call: Callable[[int], Any], times: int) -> float:
    """CPU µs of this thread per call."""
    started = time.thread_time()
    for n in range(times):
        call(n)
    return (time.thread_time() - started) / times * 1e6


async def whole(app: Any, key: str, make: Callable[[int], tuple[str, bytes]], requests: int, profiles: int,
                concurrency: int) -> tuple[float, float, float]:  # fmt: skip
    """(event loop thread µs, process µs, commits) per answer."""
    writer = app.state.profiles.audit
    commits = writer.commits
    thread, process = time.thread_time(), time.process_time()

    async def client(offset: int) -> None:
        for n in range(offset, requests, concurrency):
            assert await _get(app, key, *make(1 + n % (profiles - 1))) == 200

    await asyncio.gather(*(client(n) for n in range(concurrency)))
    return ((time.thread_time() - thread) / requests * 1e6, (time.process_time() - process) / requests * 1e6,
            (writer.commits - commits) / requests)  # fmt: skip


async def straight(app: Any, key: str, route: str, make: Callable[[int], tuple[str, bytes]], requests: int,
                   profiles: int) -> float:  # fmt: skip
    """The route's direct read on a request that is already routed: µs per answer (audit left out)."""
    context = next(c for c in routing.iter_route_contexts(app.router.routes) if c.path == PATHS[route])
    original = context.original_route
    assert isinstance(original, _CheckedRead)
    read = original.direct(context._route_context.dependant)
    convertors = context._route_context.param_convertors

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    started = time.thread_time()
    for n in range(requests):
        path, query = make(1 + n % (profiles - 1))
        match = context._route_context.path_regex.match(path)
        scope = {"type": "http", "method": "GET", "path": path, "query_string": query, "root_path": "", "app": app,
                 "headers": [(b"authorization", f"Bearer {key}".encode())],
                 "path_params": {k: convertors[k].convert(v) for k, v in match.groupdict().items()}}  # fmt: skip
        response = await read(Request(scope, receive, send))
        assert response is not None
        await response(scope, receive, send)
    return (time.thread_time() - started) / requests * 1e6


def parts(app: Any, key: str, route: str, times: int, profiles: int) -> dict[str, float]:
    ctx = app.state.profiles
    who = Principal(name="bench", kind="api_key", scopes=frozenset({"profiles:read"}), surface="api")
    pid: Callable[[int], int] = lambda n: 1 + n % (profiles - 1)  # noqa: E731 - a one-line helper
    out = {"key check (cached)": each(lambda _n: ctx.keys.authenticate(
        lambda: unit_of_work(ctx.engine, write=False), key, "profiles:read"), times)}  # fmt: skip
    context = next(c for c in routing.iter_route_contexts(app.router.routes) if c.path == PATHS[route])
    plain = PlainParams.of(context._route_context.dependant)
    assert plain is not None
    make = ROUTES[route]

    def params(n: int) -> None:
        _path, query = make(pid(n))
        scope = {"type": "http", "query_string": query, "path_params": {"profile_id": str(pid(n))}}
        plain.values(Request(scope))

    out["parameters"] = each(params, times)

    def snapshot(_n: int) -> None:
        with ctx.reads.snapshot():
            pass

    out["read snapshot (BEGIN, ROLLBACK)"] = each(snapshot, times)
    names = ctx.source_names.get()
    with ctx.reads.snapshot() as reads:
        if route == "lookup":
            out["identifier parsed"] = each(lambda n: parse_identifier(f"email:p{pid(n)}@example.com", ctx.identity),
                                             times)  # fmt: skip
            out["read: identifier's profile"] = each(
                lambda n: _FIND.first(reads, value=f"p{pid(n)}@example.com", type="email"), times)  # fmt: skip
        out["read: profile header"] = each(lambda n: _HEADER.first(reads, id=pid(n)), times)
        if route in ("lookup", "card"):
            out["read: identifiers"] = each(lambda n: _LINKS.all(reads, id=pid(n)), times)
            out["read: traits' values and counts"] = each(lambda n: card_rows(reads, pid(n)), times)
            out["card facts (that read, values decoded)"] = each(
                lambda n: card_facts(reads, pid(n), names, ctx.survivorship), times)  # fmt: skip
            out["(survivorship over every candidate, as before)"] = each(
                lambda n: golden_traits(reads, pid(n), names, ctx.survivorship), times)  # fmt: skip
            body = profiles_api._card(reads, ctx, 5)
        else:
            out["read: reachability (communications)"] = each(lambda n: reachability(reads, pid(n), ["email"]), times)
            reach = reachability(reads, 5, ["email"])
            config = ctx.identity.consent
            out["read + policy: may contact"] = each(lambda n: may_contact_profile(
                reads, pid(n), "marketing", "email", reachability=reach, config=config), times)  # fmt: skip
            decision = may_contact_profile(reads, 5, "marketing", "email", reachability=reach,
                                           config=ctx.identity.consent)  # fmt: skip
            body = consent_api._decision_values(5, decision)
    out["serialization (orjson)"] = each(lambda _n: answers.json_response(body), times)
    out["audit entry built"] = each(lambda n: _row(who, "read", "profile", pid(n), {"view": route}), times)
    return out


async def run(app: Any, key: str, args: Any) -> None:
    async with running(app):

        async def nothing(*_args: Any, **_kwargs: Any) -> None:
            return None

        for route in args.routes.split(","):
            make = ROUTES[route]
            for n in range(1, 300):  # warm up
                assert await _get(app, key, *make(n)) == 200
            loop_us, process_us, commits = await whole(app, key, make, args.requests, args.profiles, args.concurrency)
            module = profiles_api if route != "consent" else consent_api
            audited = module.record_async
            module.record_async = nothing  # type: ignore[assignment]  # the audit entry left out, to see its share
            try:
                bare_us = (await whole(app, key, make, args.requests, args.profiles, args.concurrency))[1]
                read_us = await straight(app, key, route, make, args.requests, args.profiles)
            finally:
                module.record_async = audited  # type: ignore[assignment]  # the benchmark puts the real function back after timing without it
            print(f"{route}: {process_us:.0f} us CPU per answer ({loop_us:.0f} on the event loop's thread), "
                  f"{commits:.2f} commits per answer, {args.concurrency} at a time; "
                  f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
            print(f"  {process_us - bare_us:6.1f} us  audit: the entry, its hand-off, the commit, the wake-ups back")
            print(f"  {bare_us - read_us:6.1f} us  framework: middleware and routing (the request without its audit "
                  f"entry, {bare_us:.0f} us, less its read called straight, {read_us:.0f} us)")  # fmt: skip
            for name, micros in parts(app, key, route, args.requests, args.profiles).items():
                print(f"  {micros:6.1f} us  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=3000, help="per route and way")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--routes", default="lookup,card,consent")
    parser.add_argument("--workdir", default="", help="keep the SQLite database here, and reuse it next time")
    args = parser.parse_args()
    app, key = filled_app(args.workdir, "seamline-readpath-breakdown-", args.profiles)
    asyncio.run(run(app, key, args))


if __name__ == "__main__":
    main()
