"""What journey events cost the worker: its events/s over the same number of events, first a plain mix (identify,
track, page), then the same mix with a share of the tracks replaced by the `Journey …` family (each person starts
a mortgage application, then saves and completes steps). Prints figures; asserts nothing.

Each run is a fresh SQLite database (or a fresh schema-less PostgreSQL database URL you give) with the demo
journey definitions loaded in both, the events appended to the inbox first (not timed), then drained by the real
worker (`seamline.worker.runner.Worker`, every registered consumer). The goal: journey events add < 20% to the
worker's time per event.

    python benchmarks/journeys_worker.py [--events 20000] [--people 2000] [--share 0.3] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.ingestion.service import append_messages
from seamline.ingestion.wire import Limits
from seamline.journeys.installed import load_definitions
from seamline.sources.service import create_source
from seamline.worker.runner import Worker

DEFINITIONS = Path(__file__).parent.parent / "src" / "seamline" / "demo" / "journey_definitions"
CHUNK = 500


def _plain(person: int, n: int) -> dict[str, Any]:
    who = {"userId": f"u-{person}"}
    if n == 0:
        traits = {"email": f"p{person}@example.com", "first_name": f"P{person}"}
        return {"type": "identify", **who, "traits": traits}
    if n % 3 == 0:
        return {"type": "page", **who, "name": "Rates", "properties": {"path": "/rates"}}
    return {"type": "track", **who, "event": "Product Viewed", "properties": {"product": f"sku-{n % 7}"}}


def _journey(person: int, n: int) -> dict[str, Any]:
    props: dict[str, Any] = {"journey": "apply_for_mortgage", "instance_id": f"ji_w_{person}"}
    if n == 1:
        name = "Journey Started"
    elif n % 4 == 0:
        name = "Journey Step Completed"
        props.update(step="property", property_value=400_000 + n, loan_amount=250_000 + n)
    else:
        name = "Journey Step Saved"
        props.update(step="property", loan_amount=200_000 + n)
    return {"type": "track", "userId": f"u-{person}", "event": name, "properties": props}


def messages(events: int, people: int, share: float) -> tuple[list[dict[str, Any]], int]:
    """`events` messages, round-robin over `people` (each begins with an identify); with `share` > 0, that share
    of each person's later events are journey events. Returns them and how many are journey events."""
    out: list[dict[str, Any]] = []
    journey_events = 0
    every = round(1 / share) if share > 0 else 0
    for i in range(events):
        person, n = i % people, i // people
        if every and n > 0 and n % every == 1 % every:
            out.append(_journey(person, (n // every) + 1))
            journey_events += 1
        else:
            out.append(_plain(person, n))
    return out, journey_events


def run(label: str, batch: list[dict[str, Any]], journey_events: int, url: str | None) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        database = url or f"sqlite:///{folder}/worker.db"
        engine = create_db_engine(database)
        upgrade(engine)
        with unit_of_work(engine) as session:
            load_definitions(session, DEFINITIONS, utcnow())
            source, _key = create_source(session, "web", "web")
        now = utcnow()
        with unit_of_work(engine) as session:
            for start in range(0, len(batch), CHUNK):
                append_messages(session.connection(), source.id, now, batch[start : start + CHUNK], Limits())
        worker = Worker(engine, Settings(database_url=database, data_dir=Path(folder)))
        load = os.getloadavg()
        began, cpu = time.perf_counter(), time.process_time()
        processed = worker.drain()
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        with engine.connect() as conn:
            instances = conn.execute(text("SELECT count(*) FROM journey_instances")).scalar()
        print(
            f"{label}: {processed:,} events ({journey_events:,} journey events, {instances:,} instances) in "
            f"{took:.1f} s: {processed / took:,.0f} events/s, {processed / cpu:,.0f} per CPU-second "
            f"(load before {load[0]:.1f})"
        )
        engine.dispose()
        return processed / took, processed / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--share", type=float, default=0.3, help="share of each person's later events (0.3)")
    parser.add_argument("--database-url", default=None, help="an empty database to use instead of SQLite")
    parser.add_argument("--repeat", type=int, default=1, help="run the pair this many times, interleaved (medians)")
    args = parser.parse_args()
    plain, _ = messages(args.events, args.people, 0.0)
    mixed, journey_events = messages(args.events, args.people, args.share)
    changes: list[tuple[float, float]] = []
    for _ in range(args.repeat):
        base = run("plain mix", plain, 0, args.database_url)
        with_journeys = run("with journey events", mixed, journey_events, args.database_url)
        changes.append(((with_journeys[0] / base[0] - 1) * 100, (with_journeys[1] / base[1] - 1) * 100))
        print(
            f"journey events change the worker's events/s by {changes[-1][0]:+.1f}% "
            f"(per CPU-second {changes[-1][1]:+.1f}%)"
        )
    if args.repeat > 1:
        # The goal's figure: journey events take less than 20% off the plain mix's events per CPU-second.
        print(
            f"median of {args.repeat} pairs: events/s {statistics.median(c[0] for c in changes):+.1f}%, "
            f"per CPU-second {statistics.median(c[1] for c in changes):+.1f}% (goal: above -20%)"
        )


if __name__ == "__main__":
    main()
