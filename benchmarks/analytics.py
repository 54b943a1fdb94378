"""Journey analytics benchmark: a four-step funnel and a path view over millions of events.

Generates tracking events (inbox rows with their context, and the timeline index the pipeline writes) straight into
a migrated SQLite file (or PostgreSQL), in bulk and not through the API, with reminder emails and call-centre cases
for some of the people who stop; then measures:

  - the columnar copy's first build (the store's columns read into DuckDB through Arrow),
  - a four-step funnel on the warm copy (p50/p99 of repeated runs), and with a breakdown by channel,
  - a path view (the next 3 touches of everyone who dropped off at step 1, and at step 2),
  - repeated identification, and a catch-up after new events (rows above the watermark only).

Prints figures; asserts nothing. Print `uptime` beside them: the machine is shared.

    python benchmarks/analytics.py [--events 5000000] [--runs 7] [--postgres | --database-url URL]

Goals (issue 19): a four-step funnel over 5M events in ≤ 1 s; a path view over 5M events < 2 s.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select

from measuring import add_database_options, database, peak_rss_mb, timed, uptime
from seamline.analytics.service import Analytics, FunnelQuery
from seamline.cases.models import Case
from seamline.communications.models import Communication
from seamline.core.db import create_db_engine, table_of
from seamline.core.migrations import upgrade
from seamline.ingestion.models import InboxEvent
from seamline.profiles.models import ProfileEvent
from seamline.sources.models import Source

FUNNEL = ("Application Started", "Documents Uploaded", "Application Submitted", "Offer Accepted")
ONWARD = (0.55, 0.65, 0.5)  # the share of each step's people who reach the next
NOISE = ("Page Viewed", "Statement Viewed", "Card Frozen", "Login")
CHANNELS = (("web", None, 1), ("mobile", "ios", 2), ("mobile", "android", 2), ("phone", None, 3))
START = datetime(2026, 9, 1, tzinfo=UTC)
CHUNK = 50_000


class Generator:
    """Writes events in chunks of CHUNK rows to both the inbox and the timeline index."""

    def __init__(self, engine: Engine, seed: int) -> None:
        self.engine = engine
        self.rng = random.Random(seed)
        self.inbox: list[dict[str, Any]] = []
        self.index: list[dict[str, Any]] = []
        self.comms: list[dict[str, Any]] = []
        self.cases: list[dict[str, Any]] = []

    def event(
        self, event_id: int, person: int, kind: str, name: str | None, at: datetime, how: tuple[Any, ...]
    ) -> None:
        channel, device, source = how
        context: dict[str, Any] = {"channel": channel}
        if device:
            context["device"] = {"type": device}
        payload = {"type": kind, "event": name, "userId": f"u{person}", "properties": {"product": "mortgage"},
                   "context": context}  # fmt: skip
        self.inbox.append({
            "id": event_id, "source_id": source, "message_id": f"b{event_id}", "type": kind, "user_id": f"u{person}",
            "anonymous_id": None, "partition": person % 16, "received_at": at, "payload": json.dumps(payload),
            "processed_at": at,
        })  # fmt: skip
        self.index.append({"event_id": event_id, "profile_id": person, "source_id": source, "type": kind,
                           "name": name, "channel": channel, "occurred_at": at})  # fmt: skip
        if len(self.index) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        with self.engine.begin() as conn:
            if self.inbox:
                conn.execute(insert(table_of(InboxEvent)), self.inbox)
                conn.execute(insert(table_of(ProfileEvent)), self.index)
            if self.comms:
                conn.execute(insert(table_of(Communication)), self.comms)
            if self.cases:
                conn.execute(insert(table_of(Case)), self.cases)
        self.inbox, self.index, self.comms, self.cases = [], [], [], []


def generate(engine: Engine, events: int, first_id: int = 1, first_person: int = 1) -> int:
    """About `events` events (ids from `first_id`), ~10 a person; returns the next free event id."""
    if first_id == 1:
        with engine.begin() as conn:
            conn.execute(insert(table_of(Source)), [
                {"id": i, "name": n, "kind": k, "write_key_hash": f"h{i}", "key_hint": "x", "allowed_origins": [],
                 "created_at": START}
                for i, n, k in ((1, "web-site", "web"), (2, "mobile-app", "mobile"), (3, "call-centre", "call-center"))
            ])  # fmt: skip
    g = Generator(engine, first_id)
    rng = g.rng
    span = 60 * 86_400
    event_id, person = first_id, first_person
    comm = first_id
    while event_id < first_id + events:
        how = CHANNELS[rng.randrange(len(CHANNELS) - 1)]
        at = START + timedelta(seconds=rng.randrange(span))
        g.event(event_id, person, "identify", None, at, how)
        event_id += 1
        reached = 0
        if rng.random() < 0.6:
            for k, name in enumerate(FUNNEL):
                if k and rng.random() > ONWARD[k - 1]:
                    break
                at += timedelta(seconds=rng.expovariate(1 / 7200))
                g.event(event_id, person, "track", name, at, how if rng.random() < 0.8 else CHANNELS[1])
                event_id += 1
                reached = k + 1
            if 0 < reached < len(FUNNEL) and rng.random() < 0.4:  # a reminder, and some of them phone
                at += timedelta(days=1)
                g.comms.append({
                    "communication_id": f"c{comm}", "profile_id": person, "type": "service", "template": "doc_reminder",
                    "platform": "mailer", "channel": "email", "fields": {}, "status": "delivered", "created_at": at,
                    "sent_at": at, "updated_at": at,
                })  # fmt: skip
                comm += 1
                if rng.random() < 0.3:
                    at += timedelta(hours=3)
                    g.cases.append({
                        "profile_id": person, "origin_profile_id": person, "subject": "documents", "priority": "normal",
                        "status": "open", "queue": "general", "channel": "phone", "opened_by": "bench",
                        "opened_at": at, "updated_at": at,
                    })  # fmt: skip
                    g.event(event_id, person, "identify", None, at, CHANNELS[3])
                    event_id += 1
        for _ in range(rng.randrange(3, 12)):
            at += timedelta(seconds=rng.expovariate(1 / 20_000))
            g.event(event_id, person, "track", NOISE[rng.randrange(len(NOISE))], at, how)
            event_id += 1
        person += 1
    g.flush()
    return event_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=7)
    add_database_options(parser)
    parser.add_argument("--reuse", action="store_true", help="measure a --database-url this script filled before")
    args = parser.parse_args()
    with database(args, "analytics") as url:
        run(url, args)


def run(url: str, args: argparse.Namespace) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    print(f"database: {engine.dialect.name}; {args.events:,} events; {uptime()}")
    began = time.perf_counter()
    if args.reuse:
        with engine.connect() as conn:
            next_id = int(conn.execute(select(func.max(ProfileEvent.event_id))).scalar() or 0) + 1
        print(f"reusing {next_id - 1:,} events")
    else:
        next_id = generate(engine, args.events)
        print(f"generated {next_id - 1:,} events in {time.perf_counter() - began:.0f} s")

    analytics = Analytics(engine, refresh_seconds=3600, rebuild_seconds=86_400)
    funnel = FunnelQuery(FUNNEL, window_hours=24 * 7)
    began = time.perf_counter()
    first = analytics.funnel(funnel)
    print(f"{'columnar copy: first build (+ funnel)':<48} {time.perf_counter() - began:8.1f} s   {uptime()}")
    print("funnel: " + ", ".join(f"{f.step} {f.reached:,}" for f in first.overall))
    timed("four-step funnel (warm copy)", args.runs, lambda: analytics.funnel(funnel))
    by_channel = FunnelQuery(FUNNEL, window_hours=24 * 7, breakdown="channel")
    timed("four-step funnel by channel (warm copy)", args.runs, lambda: analytics.funnel(by_channel))
    view = analytics.paths(funnel, at=1, depth=3)
    print(f"paths after step 1: {view.people:,} people; commonest: {view.paths[0].text} ({view.paths[0].people:,})")
    timed("path view after step 1, 3 touches (warm copy)", args.runs, lambda: analytics.paths(funnel, at=1, depth=3))
    timed("path view after step 2, 3 touches (warm copy)", args.runs, lambda: analytics.paths(funnel, at=2, depth=3))
    timed("repeated identification (warm copy)", max(args.runs // 2, 1), analytics.repeated_identification)

    fresh = max(args.events // 1000, 1000)
    generate(engine, fresh, first_id=next_id, first_person=10_000_000 + next_id)
    analytics.replica.refresh_seconds = 0.0
    began = time.perf_counter()
    analytics.funnel(funnel)
    print(f"{f'catch-up after {fresh:,} new events (+ funnel)':<48} {(time.perf_counter() - began) * 1000:8.0f} ms")
    print(f"peak memory of this process: {peak_rss_mb():.0f} MB; {uptime()}")
    engine.dispose()


if __name__ == "__main__":
    main()
