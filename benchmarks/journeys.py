"""Journeys benchmark: save-a-step and resume through the API at a target rate, and the stall scan over many open
journeys. Prints figures; asserts nothing.

Profiles and journey instances are written straight into the tables in bulk (the shapes the worker writes; the
profiles as benchmarks/console.py writes them) because resolving hundreds of thousands of events through the
worker would take the shared machine most of an hour. Then, in-process through the ASGI app (no network), requests
are sent on a fixed schedule at `--rate` per second, alternating a draft save of one field (PUT …/draft: an event
appended to the inbox and applied to the journey at once, the rest of the pipeline left to the worker; audited)
and a resume (GET /v1/journeys?user_id=…: the person's open journeys with their data, audited), first one at a
time through the TestClient, then in an open loop on one event loop straight into the ASGI app (no client
thread); latency is each request's time from its scheduled start, so a server that falls behind shows it. Last,
every instance is made quiet and the stall scan is timed until it has marked all of them (each marked instance
also appends a `Journey Stalled` event to the inbox).

    python benchmarks/journeys.py [--profiles 1000000] [--journeys 200000] [--rate 500] [--requests 3000]
                                  [--database-url URL] [--no-stall-scan]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.journeys.installed import load_definitions
from seamline.journeys.models import JourneyInstance
from seamline.journeys.stalls import scan

sys.path.insert(0, str(Path(__file__).parent))
from console import populate

DEFINITIONS = Path(__file__).parent.parent / "src" / "seamline" / "demo" / "journey_definitions"
CHUNK = 20_000


def open_journeys(engine: Engine, count: int, profiles: int, rng: random.Random) -> list[str]:
    """`count` open mortgage applications at step `property`, on distinct random profiles; their public ids."""
    chosen = rng.sample(range(1, profiles + 1), count)
    now = utcnow()
    ids = []
    for base in range(0, count, CHUNK):
        rows = []
        for i, pid in enumerate(chosen[base : base + CHUNK], start=base):
            public_id = f"ji_bench_{i}"
            ids.append(public_id)
            rows.append(
                {
                    "public_id": public_id,
                    "journey": "apply_for_mortgage",
                    "profile_id": pid,
                    "origin_profile_id": pid,
                    "status": "open",
                    "current_step": "property",
                    "step_since": now,
                    "started_at": now,
                    "started_channel": "mobile",
                    "last_activity_at": now,
                    "event_id": 0,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(JourneyInstance.__table__), rows)
    return ids


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def paced(client: TestClient, headers: dict[str, str], targets: list[tuple[str, int]], rate: float, n: int) -> None:
    """Send n requests at `rate`/s, alternating save and resume; print p50/p99 of each from its scheduled start."""
    saves: list[float] = []
    resumes: list[float] = []
    service: dict[str, list[float]] = {"save": [], "resume": []}  # from the request's actual start: server time
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        due = start + i / rate
        while (now := time.perf_counter()) < due:
            time.sleep(min(due - now, 0.001))
        public_id, pid = targets[i % len(targets)]
        sent = time.perf_counter()
        if i % 2 == 0:
            body = {"fields": {"loan_amount": 200000 + i}, "channel": "web", "device": "laptop"}
            response = client.put(f"/v1/journeys/{public_id}/steps/property/draft", json=body, headers=headers)
            (saves if response.status_code == 200 else []).append(time.perf_counter() - due)
            service["save"].append(time.perf_counter() - sent)
        else:
            response = client.get("/v1/journeys", params={"user_id": f"u-{pid}"}, headers=headers)
            (resumes if response.status_code == 200 else []).append(time.perf_counter() - due)
            service["resume"].append(time.perf_counter() - sent)
        if response.status_code != 200:
            print("refused:", response.status_code, response.text[:200])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"sent {n} requests in {elapsed:.1f} s ({n / elapsed:.0f}/s achieved, target {rate:.0f}/s)")
    # CPU of the whole process (client, server, writer threads) per request: what the load on the machine moves least.
    print(f"  CPU per request (both kinds, client included): {cpu / n * 1000:.1f} ms")
    for name, values in (("save a step (draft)", saves), ("resume (open journeys)", resumes)):
        if values:
            print(
                f"  {name}: n={len(values)} p50 {_pct(values, 0.5):.1f} ms, p99 {_pct(values, 0.99):.1f} ms, "
                f"mean {statistics.mean(values) * 1000:.1f} ms (from the scheduled start)"
            )
    for name, values in service.items():
        if values:
            print(f"  {name} server time: p50 {_pct(values, 0.5):.1f} ms, p99 {_pct(values, 0.99):.1f} ms")


async def _open_loop(app: Any, headers: dict[str, str], targets: list[tuple[str, int]], rate: float, n: int) -> None:
    """n requests arriving at `rate`/s whatever the server does (open loop), on one event loop straight into the
    ASGI app (no sockets, no client thread): each one's latency from its scheduled arrival, so a queue shows."""
    latencies: dict[str, list[float]] = {"save a step (draft)": [], "resume (open journeys)": []}
    refused = 0
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://bench") as client:
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.1

        async def one(i: int) -> None:
            nonlocal refused
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            public_id, pid = targets[i % len(targets)]
            if i % 2 == 0:
                body = {"fields": {"loan_amount": 200000 + i}, "channel": "web", "device": "laptop"}
                url = f"/v1/journeys/{public_id}/steps/property/draft"
                response = await client.put(url, json=body, headers=headers)
                kind = "save a step (draft)"
            else:
                response = await client.get("/v1/journeys", params={"user_id": f"u-{pid}"}, headers=headers)
                kind = "resume (open journeys)"
            if response.status_code != 200:
                refused += 1
            latencies[kind].append(loop.time() - due)

        began, cpu = loop.time(), time.process_time()
        await asyncio.gather(*(one(i) for i in range(n)))
        elapsed, cpu = loop.time() - began, time.process_time() - cpu
    achieved = n / elapsed
    print(f"open loop: {n} requests at {rate:.0f}/s, done in {elapsed:.1f} s ({achieved:.0f}/s), {refused} refused")
    # The whole process's CPU (client, server, the writer threads) per request, saves and resumes alike.
    print(f"  CPU per request (both kinds, client included): {cpu / n * 1000:.2f} ms")
    for name, values in latencies.items():
        print(
            f"  {name}: n={len(values)} p50 {_pct(values, 0.5):.1f} ms, p99 {_pct(values, 0.99):.1f} ms (from arrival)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--journeys", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-stall-scan", action="store_true", help="only the API runs (shorter)")
    parser.add_argument("--scan-only", action="store_true", help="skip the API runs: store, then time the stall scan")
    args = parser.parse_args()
    rng = random.Random(15)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        engine = create_db_engine(url)
        upgrade(engine)
        began = time.perf_counter()
        populate(engine, args.profiles, 1, rng)
        with unit_of_work(engine) as session:
            load_definitions(session, DEFINITIONS, utcnow())
            _view, key = create_api_key(session, "bench", ["journeys:read", "journeys:write"])
        ids = open_journeys(engine, args.journeys, args.profiles, rng)
        stored = time.perf_counter() - began
        print(f"stored {args.profiles:,} profiles and {args.journeys:,} open journeys in {stored:.0f} s")
        with engine.connect() as conn:
            pids = dict(conn.execute(text("SELECT public_id, profile_id FROM journey_instances")).all())
        targets = [(pid, pids[pid]) for pid in rng.sample(ids, min(1000, len(ids)))]
        if not args.scan_only:
            settings = Settings(database_url=url, data_dir=Path(folder))
            headers = {"Authorization": f"Bearer {key}"}
            app = create_app(settings)
            with TestClient(app) as client:  # runs the app's lifespan (its writers, its state) around the runs
                paced(client, headers, targets[:50], 50, 100)  # warm-up, not reported
                print(f"load average before the run: {os.getloadavg()}")
                paced(client, headers, targets, args.rate, args.requests)
                print(f"load average before the open loop: {os.getloadavg()}")
                asyncio.run(_open_loop(app, headers, targets, args.rate, args.requests))
        if not args.no_stall_scan:
            stall_scan(engine, args.journeys)
        engine.dispose()


def stall_scan(engine: Engine, journeys: int) -> None:
    """Make every journey quiet, then time the stall scan (wall and this process's CPU) until it marks none."""
    # The stall scan: every journey quiet for longer than the definition's 3 days.
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE journey_instances SET last_activity_at = :t"), {"t": datetime(2026, 1, 1, tzinfo=UTC)}
        )
    later = datetime(2026, 1, 2, tzinfo=UTC) + timedelta(days=3)
    print(f"load average before the stall scan: {os.getloadavg()[0]:.1f}")
    began, cpu, runs, marked = time.perf_counter(), time.process_time(), 0, 0
    while True:
        with unit_of_work(engine) as session:
            found = scan(session, later)
        runs += 1
        marked += found
        if found == 0:
            break
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"stall scan: marked {marked:,} of {journeys:,} open journeys stalled in {took:.1f} s (goal: under 5 s), "
        f"{cpu:.1f} s CPU, {cpu / max(marked, 1) * 1e6:.1f} µs CPU per journey ({runs} runs)"
    )
    began = time.perf_counter()
    with unit_of_work(engine) as session:
        scan(session, later)
    print(f"stall scan with nothing to mark: {(time.perf_counter() - began) * 1000:.0f} ms")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
