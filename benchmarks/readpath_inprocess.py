"""The hot reads in-process: Seamline's ASGI app driven without a server or a socket, CPU per answer.

Prints figures; asserts nothing. The app's lifespan runs (audit writer, held read connection), four concurrent
tasks send GETs through the ASGI callable with a server key, every answer audited; the figure is this process's
CPU (app, audit writer thread and the driver) over the answers. No uvicorn and no load process, so it moves less
with the machine's load than `benchmarks/readpath.py` does: what to compare code in turns with.

    python benchmarks/readpath_inprocess.py                      # 20k profiles in a temporary folder
    python benchmarks/readpath_inprocess.py --workdir /tmp/rp --requests 4000 --routes lookup,consent
    python benchmarks/readpath_inprocess.py --concurrency 1     # one request at a time: each entry its own commit
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seamline.app import create_app
from seamline.config import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inprocess import running
from readpath import fill

ROUTES: dict[str, Callable[[int], tuple[str, bytes]]] = {
    "lookup": lambda i: ("/v1/profiles/lookup", f"identifier=email:p{i}@example.com".encode()),
    "card": lambda i: (f"/v1/profiles/{i}", b""),
    "consent": lambda i: (f"/v1/profiles/{i}/may-contact", b"purpose=marketing&channel=email"),
}


async def _get(app: Any, key: str, path: str, query: bytes) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
             "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {key}".encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}  # fmt: skip
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def run(app: Any, key: str, routes: list[str], requests: int, profiles: int, concurrency: int = 4) -> None:
    async with running(app):
        for route in routes:
            make = ROUTES[route]
            for i in range(1, 300):  # warm up
                assert await _get(app, key, *make(i)) == 200

            async def client(offset: int, make: Callable[[int], tuple[str, bytes]] = make) -> None:
                for i in range(offset, requests, concurrency):
                    assert await _get(app, key, *make(1 + i % (profiles - 1))) == 200

            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.gather(*(client(n) for n in range(concurrency)))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            print(f"  {route:<8} {cpu / requests * 1e6:5.0f} us CPU per answer ({requests:,} answers, "
                  f"{requests / wall:,.0f}/s; load {os.getloadavg()[0]:.1f})")  # fmt: skip


def filled_app(workdir_arg: str, prefix: str, profiles: int) -> tuple[Any, str]:
    """The app over a SQLite file holding `profiles` profiles (in `workdir_arg`, reused next time, or a new temporary
    folder), and the API key that reads them."""
    workdir = Path(workdir_arg or tempfile.mkdtemp(prefix=prefix))
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'seamline.db'}"
    key, _seconds = fill(url, profiles)
    return create_app(Settings(database_url=url, data_dir=workdir)), key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=4000, help="per route")
    parser.add_argument("--routes", default="lookup,card,consent")
    parser.add_argument("--concurrency", type=int, default=4, help="requests at a time (1: no two share a commit)")
    parser.add_argument("--workdir", default="", help="keep the SQLite database here, and reuse it next time")
    args = parser.parse_args()
    app, key = filled_app(args.workdir, "seamline-readpath-inprocess-", args.profiles)
    print(f"{args.profiles:,} profiles, {args.concurrency} concurrent tasks, in-process; load {os.getloadavg()[0]:.1f}")
    asyncio.run(run(app, key, args.routes.split(","), args.requests, args.profiles, args.concurrency))


if __name__ == "__main__":
    main()
