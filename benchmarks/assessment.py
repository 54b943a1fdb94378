"""Communications assessment benchmark: the inventory, flow map and effectiveness at scale.

Generates a communications log (communications, ~2.3 outcomes each, cases, goal events, trait provenance) straight
into a migrated SQLite file (or PostgreSQL), then measures:

  - the columnar copy's first build (the store's columns read into DuckDB through Arrow),
  - each report on the warm copy (p50/p99 of repeated runs),
  - a catch-up after new sends (rows above the watermarks only),
  - for comparison, the inventory's GROUP BY run in the store itself (SQLite or PostgreSQL; no percentiles there).

Prints figures; asserts nothing. Print `uptime` beside them: the machine is shared.

    python benchmarks/assessment.py [--rows 1000000] [--runs 7] [--postgres | --database-url URL]

Goals (issue 18): with 10M communications, the inventory and the flow map < 2 s each, effectiveness < 3 s.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text

from measuring import add_database_options, database, peak_rss_mb, timed, uptime
from seamline.assessment.config import AssessmentConfig
from seamline.assessment.service import Assessment
from seamline.cases.models import Case
from seamline.communications.config import BUILTIN_DIR
from seamline.communications.models import Communication, CommunicationOutcome
from seamline.communications.templates import Catalog
from seamline.core.db import create_db_engine, table_of
from seamline.core.migrations import upgrade
from seamline.profiles.models import ProfileEvent, TraitValue

# (template, type, platform, channel, source): a bank's mix, declared and not.
KINDS = (
    ("estatement", "statement", "edelivery", "email", "core-banking"),
    ("paper_statement", "statement", "print-vendor", "paper", "core-banking"),
    ("card_notice", "notice", "mailer", "email", "cards-system"),
    ("card_alert_sms", "notice", "sms-gateway", "sms", "cards-system"),
    ("spring_offer", "marketing", "marketing-cloud", "email", "crm"),
    ("mortgage_documents_needed", "service", "mailer", "email", "mortgage-system"),
    ("mortgage_application_received", "service", "sms-gateway", "sms", "mortgage-system"),
    ("statement_ready", "statement", "seamline", "email", "core-banking"),
)
START = datetime(2026, 9, 1, tzinfo=UTC)
CHUNK = 50_000


def generate(engine: Engine, rows: int, people: int, first_id: int = 1) -> None:
    """`rows` communications (ids from `first_id`) with their outcomes, plus cases, goal events and traits."""
    rng = random.Random(first_id)
    c_table, o_table = table_of(Communication), table_of(CommunicationOutcome)
    span = 90 * 86_400
    for base in range(first_id, first_id + rows, CHUNK):
        comms: list[dict[str, Any]] = []
        outs: list[dict[str, Any]] = []
        for i in range(base, min(base + CHUNK, first_id + rows)):
            template, kind, platform, channel, source = KINDS[i % len(KINDS)]
            at = START + timedelta(seconds=rng.randrange(span))
            sent = at + timedelta(seconds=rng.randrange(1, 120))
            roll = rng.random()
            status = "delivered" if roll < 0.9 else "bounced_hard" if roll < 0.95 else "suppressed"
            comms.append({
                "id": i, "communication_id": f"b-{i}", "profile_id": rng.randrange(1, people), "type": kind,
                "template": template, "template_version": "1", "batch": f"{template}-{at:%Y-%m-%d}",
                "source_system": source, "platform": platform, "channel": channel, "product": None, "fields": {},
                "status": status, "created_at": at, "sent_at": sent, "updated_at": sent,
            })  # fmt: skip
            outs.append({"communication_row_id": i, "outcome": "sent", "origin": "event", "occurred_at": sent})
            if status == "suppressed":
                outs[-1] = {"communication_row_id": i, "outcome": "suppressed", "detail": "quiet hours",
                            "origin": "dispatcher", "occurred_at": sent}  # fmt: skip
            else:
                delay = timedelta(seconds=rng.expovariate(1 / 300))
                outs.append(
                    {"communication_row_id": i, "outcome": status, "origin": "event", "occurred_at": sent + delay}
                )
                if status == "delivered" and rng.random() < 0.35:
                    outs.append({"communication_row_id": i, "outcome": "opened", "origin": "event",
                                 "occurred_at": sent + delay + timedelta(hours=2)})  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(c_table), comms)
            conn.execute(insert(o_table), [{"detail": None, **o} for o in outs])
    if first_id != 1:
        return
    with engine.begin() as conn:
        conn.execute(insert(table_of(Case)), [
            {"profile_id": rng.randrange(1, people), "origin_profile_id": 1, "subject": "call", "priority": "normal",
             "status": "open", "queue": "general", "channel": "phone", "opened_by": "bench",
             "opened_at": START + timedelta(seconds=rng.randrange(span)), "updated_at": START}
            for _ in range(max(rows // 100, 10))
        ])  # fmt: skip
        conn.execute(insert(table_of(ProfileEvent)), [
            {"event_id": n, "profile_id": rng.randrange(1, people), "source_id": 1, "type": "track",
             "name": "Statement Viewed", "channel": None, "occurred_at": START + timedelta(seconds=rng.randrange(span))}
            for n in range(1, max(rows // 50, 10))
        ])  # fmt: skip
        traits = []
        for p in range(1, min(people, 200_000)):
            for source in (1, 2) if p % 3 else (1,):
                value = f"addr-{p}" if source == 1 or p % 7 else f"addr-{p}-moved"
                at = START + timedelta(days=source * 10)
                traits.append({"profile_id": p, "name": "address", "value_json": f'"{value}"', "value_hash": value,
                               "source_id": source, "first_event_id": 1, "last_event_id": 1, "first_seen_at": at,
                               "last_seen_at": at, "times_seen": 1})  # fmt: skip
        conn.execute(insert(table_of(TraitValue)), traits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=0, help="default: rows / 10")
    parser.add_argument("--runs", type=int, default=7)
    add_database_options(parser)
    args = parser.parse_args()
    people = args.people or max(args.rows // 10, 100)
    with database(args, "assess") as url:
        run(url, args, people)


def run(url: str, args: argparse.Namespace, people: int) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    print(f"database: {engine.dialect.name}; {args.rows:,} communications, {people:,} people; {uptime()}")
    began = time.perf_counter()
    generate(engine, args.rows, people)
    with engine.connect() as conn:
        outcomes = conn.execute(text("SELECT count(*) FROM communication_outcomes")).scalar()
    print(f"generated in {time.perf_counter() - began:.0f} s ({outcomes:,} outcomes)")

    config = AssessmentConfig(refresh_seconds=3600, rebuild_seconds=86_400)
    assessment = Assessment(engine, Catalog(BUILTIN_DIR), config)
    began = time.perf_counter()
    assessment.inventory()
    print(f"{'columnar copy: first build (+ inventory)':<44} {time.perf_counter() - began:8.1f} s   {uptime()}")
    timed("inventory (warm copy)", args.runs, assessment.inventory)
    timed("flow map (warm copy)", args.runs, assessment.flow_map)
    timed("effectiveness (warm copy)", args.runs, assessment.effectiveness)
    timed("bottlenecks (warm copy)", args.runs, assessment.bottlenecks)
    timed("redundancy (warm copy)", max(args.runs // 2, 1), assessment.redundancy)

    fresh = max(args.rows // 1000, 1000)
    generate(engine, fresh, people, first_id=args.rows + 1)
    assessment.replica.refresh_seconds = 0.0
    began = time.perf_counter()
    assessment.inventory()
    print(f"{f'catch-up after {fresh:,} new sends (+ inventory)':<44} {(time.perf_counter() - began) * 1000:8.0f} ms")

    with engine.connect() as conn:
        began = time.perf_counter()
        conn.execute(text(
            "SELECT coalesce(template, type), count(*), count(DISTINCT batch), min(sent_at), max(sent_at) "
            "FROM communications GROUP BY 1"
        )).all()  # fmt: skip
        print(f"{'inventory GROUP BY in the store itself':<44} {(time.perf_counter() - began) * 1000:8.0f} ms")
    print(f"peak memory of this process: {peak_rss_mb():.0f} MB; {uptime()}")
    engine.dispose()


if __name__ == "__main__":
    main()
