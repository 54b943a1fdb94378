"""`POST /v1/decisions` in-process: Seamline's ASGI app driven without a server or a socket, CPU per answer.

Prints figures; asserts nothing. The app's lifespan runs (audit writer, held read connection, start-up objects
frozen), four concurrent tasks POST the decision request of `benchmarks/decisions.py`'s HTTP runs (the target
person with ten consent versions, 200 actions) through the ASGI callable with a server key, every answer audited;
the figures are this process's CPU (app, audit writer thread and the driver) over the answers, and the full
(generation 2) collections per 10,000 answers. No uvicorn and no load process, so it moves less with the machine's
load than the HTTP runs do: what to compare code in turns with (uvicorn's own CPU, ~100-150 µs an answer, is not
in it).

    python benchmarks/decisions_inprocess.py                          # 100k profiles in a temporary folder
    python benchmarks/decisions_inprocess.py --workdir /tmp/dec --requests 4000 [--explain] [--cprofile out.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.config import Settings
from seamline.consent.config import ConsentConfig
from seamline.core.db import create_db_engine, unit_of_work
from seamline.decisions.config import DecisionsConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from consent import fill, seed
from decisions import make_customer, write_catalog
from inprocess import running
from loadgen import load


def prepare(workdir: Path, profiles: int, actions: int, *, bare: bool) -> tuple[str, str]:
    """The database (reused when the folder has one) and a key with the decisions scope: (url, key)."""
    url = f"sqlite:///{workdir / 'seamline.db'}"
    catalog = workdir / "actions"
    if not catalog.exists():
        write_catalog(catalog, actions, random.Random(16))
    if not (workdir / "key").exists():
        target = seed(url, ConsentConfig(), 10, random.Random(5))
        if not bare:
            make_customer(url, target)
        fill(url, target, profiles)
        engine = create_db_engine(url)
        with unit_of_work(engine) as session:
            _view, key = create_api_key(session, "bench", ["decisions"])
        engine.dispose()
        (workdir / "key").write_text(key)
    return url, (workdir / "key").read_text()


async def _post(app: Any, key: str, body: bytes) -> tuple[int, bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/decisions", "raw_path": b"/v1/decisions", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {key}".encode()),
                         (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip
    status: list[int] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status[0], b"".join(chunks)


async def run(app: Any, key: str, body: bytes, requests: int, rounds: int, profiler: cProfile.Profile | None) -> None:
    async with running(app):
        for _ in range(300):  # warm up
            status, answer = await _post(app, key, body)
            assert status == 200, answer

        async def client(count: int) -> None:
            for _ in range(count):
                status, answer = await _post(app, key, body)
                assert status == 200, answer

        for turn in range(rounds):
            full = gc.get_stats()[2]["collections"]
            if profiler is not None:
                profiler.enable()
            cpu, own, wall = time.process_time(), time.thread_time(), time.perf_counter()
            await asyncio.gather(*(client(requests // 4) for _ in range(4)))
            cpu, own, wall = time.process_time() - cpu, time.thread_time() - own, time.perf_counter() - wall
            if profiler is not None:
                profiler.disable()
            full = gc.get_stats()[2]["collections"] - full
            done = requests // 4 * 4
            print(
                f"  round {turn + 1}: {cpu / done * 1e6:5.0f} µs CPU per answer, {own / done * 1e6:.0f} of them the "
                f"event loop's ({done:,} answers, {done / wall:,.0f}/s; "
                f"{full * 10_000 / done:.1f} full collections per 10k answers; load {load()})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--requests", type=int, default=4000, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="ask for every reason (`explain`)")
    parser.add_argument("--bare-target", action="store_true", help="a target eligible for no action (a new folder)")
    parser.add_argument("--workdir", default="", help="keep the SQLite database here, and reuse it next time")
    parser.add_argument("--cprofile", default="", help="write a cProfile of the rounds to this file")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="seamline-decisions-inprocess-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url, key = prepare(workdir, args.profiles, args.actions, bare=args.bare_target)
    decisions = DecisionsConfig(catalog_dir=workdir / "actions")
    settings = Settings(database_url=url, data_dir=workdir, read_audit_fsync=False, decisions=decisions)
    app = create_app(settings)
    asked: dict[str, Any] = {"person": "email:target@example.com", "context": {"channel": "web"}}
    if args.explain:
        asked["explain"] = True
    print(
        f"POST /v1/decisions in-process: {args.profiles:,} profiles, {args.actions} actions, 4 concurrent tasks"
        f"{', explain' if args.explain else ''}{', a target eligible for no action' if args.bare_target else ''}; "
        f"load {load()}"
    )
    # The event loop's own CPU time (not the wall clock: waits for the audit writer's thread are not its work).
    profiler = cProfile.Profile(time.thread_time) if args.cprofile else None
    asyncio.run(run(app, key, orjson.dumps(asked), args.requests, args.rounds, profiler))
    if profiler is not None:
        profiler.dump_stats(args.cprofile)


if __name__ == "__main__":
    main()
