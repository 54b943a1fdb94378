"""The hot reads in-process at a steady arrival rate, as the HTTP benchmark drives them: CPU per answer split into
user and system time, and the wake-ups around each answer.

Prints figures; asserts nothing. `readpath_inprocess.py` keeps four requests in flight, so its entries share
commits; at 1,000/s from a load process the requests arrive one by one, ~1 ms apart, and what an answer costs is
mostly what its own share of a commit and its wake-ups cost. Here the app's ASGI callable (its lifespan running: the
audit writer, the held read connection) is sent one request every 1/rate seconds (open loop: each its own task,
started on schedule whatever the previous ones do), and the bare route's app (`bareroute.build`, the same database)
is driven the same way in turns, so each audited figure has its bare one beside it. Per answer: the process's user
and system CPU (getrusage), the event loop thread's, voluntary context switches (a thread that slept and was woken)
and commits, and p50/p99 from each request's scheduled start. No sockets, no uvicorn: the ratios are not the HTTP
benchmark's (there both sides also carry the server's socket work and wake-ups), but code compared in turns here
moves with far less noise. The user/system split is the kernel's tick sampling; their sum is exact.

    python benchmarks/readpath_paced.py                                   # 20k profiles, 1,000/s, 4 s per window
    python benchmarks/readpath_paced.py --workdir /tmp/rp --rate 1000 --rounds 3 --routes lookup,consent
    python benchmarks/readpath_paced.py --gather-ms 1,2,3                 # each route once per audit gather window
    python benchmarks/readpath_paced.py --ways audited,unflushed,unwritten,unaudited   # the audit's steps apart
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import seamline.api.consent as consent_api
import seamline.api.profiles as profiles_api
from seamline.audit.models import AuditEntry
from seamline.core.db import create_db_engine
from seamline.core.held import HeldWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bareroute import build
from inprocess import running
from readpath_inprocess import ROUTES, _get, filled_app


def _bare(i: int) -> tuple[str, bytes]:
    return "/bare/lookup", f"identifier=email:p{i}@example.com".encode()


async def _timed(app: Any, key: str, path: str, query: bytes, scheduled: float) -> tuple[int, float]:
    status = await _get(app, key, path, query)
    return status, asyncio.get_running_loop().time() - scheduled


async def paced(app: Any, key: str, make: Callable[[int], tuple[str, bytes]], rate: int, seconds: float,
                profiles: int, writer: Any) -> dict[str, float]:  # fmt: skip
    """Requests started every 1/rate s for `seconds`: per answer µs (user, system, loop thread), switches, commits."""
    loop = asyncio.get_running_loop()
    count = int(rate * seconds)
    commits = writer.commits if writer is not None else 0
    tasks: list[asyncio.Task[int]] = []
    self0, thread0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_THREAD)
    started = loop.time()
    for n in range(count):
        delay = started + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_timed(app, key, *make(1 + n % (profiles - 1)), started + n / rate)))
    answers = await asyncio.gather(*tasks)
    statuses = [status for status, _latency in answers]
    latencies = sorted(latency for _status, latency in answers)
    self1, thread1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_THREAD)
    assert all(status == 200 for status in statuses)
    return {
        "user": (self1.ru_utime - self0.ru_utime) / count * 1e6,
        "system": (self1.ru_stime - self0.ru_stime) / count * 1e6,
        "loop": (thread1.ru_utime + thread1.ru_stime - thread0.ru_utime - thread0.ru_stime) / count * 1e6,
        "switches": (self1.ru_nvcsw - self0.ru_nvcsw) / count,
        "loop_switches": (thread1.ru_nvcsw - thread0.ru_nvcsw) / count,
        "commits": ((writer.commits if writer is not None else 0) - commits) / count,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def _line(label: str, runs: list[dict[str, float]], bare: float | None) -> str:
    def mid(name: str) -> float:
        return statistics.median(run[name] for run in runs)

    total = statistics.median(run["user"] + run["system"] for run in runs)
    ratio = f", {total / bare:.2f}x bare" if bare else ""
    each = "/".join(f"{run['user'] + run['system']:.0f}" for run in runs)
    return (f"  {label:<8} {total:4.0f} us CPU per answer{ratio} (user {mid('user'):.0f}, system {mid('system'):.0f};"
            f" loop thread {mid('loop'):.0f}; {mid('switches'):.2f} voluntary switches "
            f"({mid('loop_switches'):.2f} on the loop's), {mid('commits'):.2f} commits per answer; "
            f"p50 {mid('p50'):.2f} ms, p99 {mid('p99'):.2f} ms; windows {each})")  # fmt: skip


def _audit_only(app: Any) -> Any:
    """An engine on a SQLite file of its own beside the app's, holding only the audit log (made once)."""
    url = str(app.state.profiles.engine.url)
    engine = create_db_engine(url.replace("seamline.db", "audit-only.db"))
    AuditEntry.__table__.create(engine, checkfirst=True)
    return engine


@contextmanager
def audited(app: Any, route: str, way: str) -> Iterator[None]:
    """The audit entry as it is (`audited`), committed without waiting for the disk (`unflushed`), handed to the
    writer thread and answered with no transaction at all (`unwritten`), or left out (`unaudited`): the steps
    between them are the flush, SQLite's insert and commit, and the hand-off with its wake-ups. `elsewhere`: as it
    is, but into a file of its own (`audit-only.db` beside the app's), so its commits do not empty the read
    connection's page cache, as a commit to the file a connection reads does in WAL mode."""
    writer = app.state.profiles.audit
    module = consent_api if route == "consent" else profiles_api
    record, begin, write = module.record_async, writer._begin, writer._write
    held = None
    if way == "elsewhere":
        held = HeldWriter(_audit_only(app), flush=True)
        writer._begin = held.transaction
    elif way == "unflushed":
        held = HeldWriter(app.state.profiles.engine, flush=False)
        writer._begin = held.transaction
    elif way == "unwritten":
        writer._begin, writer._write = nullcontext, lambda _transaction, _items: None
    elif way == "unaudited":

        async def nothing(*_args: Any, **_kwargs: Any) -> None:
            return None

        module.record_async = nothing
    try:
        yield
    finally:
        module.record_async, writer._begin, writer._write = record, begin, write
        if held is not None:
            held.close()


async def run(app: Any, key: str, bare_app: Any, args: Any) -> None:
    routes = args.routes.split(",")
    async with running(app), running(bare_app):
        writer = app.state.profiles.audit
        for make in [_bare, *(ROUTES[route] for route in routes)]:
            target = bare_app if make is _bare else app
            for i in range(1, 300):  # warm up
                assert await _get(target, key, *make(i)) == 200
        gathers = [float(ms) for ms in args.gather_ms.split(",")] if args.gather_ms else [writer._gaps.window * 1000]
        ways = args.ways.split(",")
        kinds = [(ms, way) for ms in gathers for way in ways]

        def label_of(route: str, ms: float, way: str) -> str:
            return route + (f" g={ms:g}" if len(gathers) > 1 else "") + (f" {way}" if len(ways) > 1 else "")

        labels = [label_of(route, ms, way) for route in routes for ms, way in kinds]
        results: dict[str, list[dict[str, float]]] = {name: [] for name in ["bare", *labels]}
        for _round in range(args.rounds):  # bare, lookup, bare, card, ... in turns: each shares the moment's load
            for route in routes:
                for ms, way in kinds:
                    writer._gaps.window = ms / 1000
                    results["bare"].append(await paced(bare_app, key, _bare, args.rate, args.seconds / 2,
                                                       args.profiles, None))  # fmt: skip
                    with audited(app, route, way):
                        results[label_of(route, ms, way)].append(
                            await paced(app, key, ROUTES[route], args.rate, args.seconds, args.profiles, writer)
                        )
        bare = statistics.median(run["user"] + run["system"] for run in results["bare"])
        print(f"{args.rate:,}/s, {args.rounds} windows of {args.seconds:g} s per route; load {os.getloadavg()[0]:.1f}")
        print(_line("bare", results["bare"], None))
        for label in labels:
            print(_line(label, results[label], bare))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=1000, help="requests started per second")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each audited window (bare: half)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--routes", default="lookup,card,consent")
    parser.add_argument(
        "--ways",
        default="audited",
        help="comma-separated: audited, unflushed, unwritten, unaudited, elsewhere (see `audited`)",
    )
    parser.add_argument("--gather-ms", default="", help="comma-separated audit gather windows, each route once per")
    parser.add_argument("--workdir", default="", help="keep the SQLite database here, and reuse it next time")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="seamline-readpath-paced-")
    app, key = filled_app(workdir, "", args.profiles)
    bare_app = build(f"sqlite:///{Path(workdir) / 'seamline.db'}")
    asyncio.run(run(app, key, bare_app, args))


if __name__ == "__main__":
    main()
