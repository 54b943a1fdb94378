"""Communications assessment benchmark: the inventory, flow map and effectiveness at scale, and the console's
pages once warm.

Fills a migrated SQLite file with the fast bulk generator (benchmarks/assessment_data.py: communications, ~2.3
outcomes each, tracked events, cases, trait provenance; `--postgres` or `--database-url` use the slower
SQLAlchemy generator below), then measures:

  - the columnar copy's first build (the store's columns read into DuckDB through Arrow),
  - each report on the warm copy (p50/p99 of repeated runs), effectiveness also split by product and by a
    customer segment (one profile in ten),
  - the console's communications pages through the ASGI app, signed in as an analyst, once warm (p50/p99),
  - a catch-up after new sends (rows above the watermarks only),
  - for comparison, the inventory's GROUP BY run in the store itself (no percentiles there).

Prints figures; asserts nothing. Print `uptime` beside them: the machine is shared.

    python benchmarks/assessment.py [--rows 1000000] [--events N] [--runs 7] [--pages 30]
                                    [--file PATH (reuse a generated file)] [--postgres | --database-url URL]

Goals (issue 18): with 10M communications and 50M events, the inventory and the flow map < 2 s each,
effectiveness < 3 s, the console pages p99 < 1 s once warm. The reports and the pages on a 10M copy made from
generated tables (a few minutes; it ends with the pages' p99 against the goal):

    python benchmarks/assessment.py --copy-only --rows 10000000 --events 50000000 --runs 5 --pages 20

and from a real store (generating it takes about an hour of wall on a loaded machine; the first build from it
tens of minutes):

    python benchmarks/assessment_data.py /tmp/assess10m.db --rows 10000000 --events 50000000
    python benchmarks/assessment.py --file /tmp/assess10m.db --rows 10000000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text

from assessment_data import copy_tables
from assessment_data import generate as bulk_generate
from measuring import add_database_options, database, peak_rss_mb, timed, uptime
from seamline.app import create_app
from seamline.assessment.config import AssessmentConfig
from seamline.assessment.scope import Scope
from seamline.assessment.service import Assessment, declarations
from seamline.cases.models import Case
from seamline.communications.config import BUILTIN_DIR
from seamline.communications.models import Communication, CommunicationOutcome
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import create_db_engine, table_of, unit_of_work
from seamline.core.migrations import upgrade
from seamline.core.principal import Principal
from seamline.profiles.models import ProfileEvent, TraitValue
from seamline.users.config import ConsoleConfig
from seamline.users.service import create_user

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


EVERY_MESSAGE = Scope(since=datetime(2000, 1, 1, 0, 0, 1, tzinfo=UTC))  # not a whole day: no per-day counts
PASSWORD = "benchmark password"  # noqa: S105 - a throwaway user of a throwaway database
PAGES = ("", "/flow", "/effectiveness", "/effectiveness?segment=product", "/bottlenecks", "/redundancy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=0, help="tracked events (default: 5 per communication)")
    parser.add_argument("--people", type=int, default=0, help="default: rows / 10")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pages", type=int, default=30, help="requests per console page")
    parser.add_argument("--file", type=str, default="", help="a SQLite file: generated there unless it exists")
    parser.add_argument(
        "--copy-only", action="store_true",
        help="no store: the columnar copy made from generated Arrow tables (times the reports and pages only)",
    )  # fmt: skip
    add_database_options(parser)
    args = parser.parse_args()
    people = args.people or max(args.rows // 10, 100)
    if args.copy_only:
        copy_only(args, people)
        return
    if args.file:
        run(f"sqlite:///{args.file}", args, people)
        return
    with database(args, "assess") as url:
        run(url, args, people)


def fill(url: str, args: argparse.Namespace, people: int) -> None:
    """Generate the store unless the file given already holds it."""
    engine = create_db_engine(url)
    if args.file and os.path.exists(args.file) and os.path.getsize(args.file) > 0:
        print(f"reusing {args.file} ({os.path.getsize(args.file) / 1e9:.1f} GB)")
        return
    upgrade(engine)
    began = time.perf_counter()
    if engine.dialect.name == "sqlite":
        engine.dispose()  # the bulk load holds the file alone
        took = bulk_generate(
            engine.url.database or "", args.rows, args.events or args.rows * 5, people
        )  # fmt: skip
        print("generated: " + ", ".join(f"{k} {v:,.0f}" for k, v in took.items()))
    else:
        generate(engine, args.rows, people)
    print(f"generated in {time.perf_counter() - began:.0f} s")
    engine.dispose()


def copy_only(args: argparse.Namespace, people: int) -> None:
    """The reports and the console's pages on a copy made from generated tables (no store under it: the copy
    never catches up, so the pages are timed on the copy as it was made)."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='seamline-assess-copy-')) / 'empty.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    events = args.events or args.rows * 5
    began = time.perf_counter()
    tables = copy_tables(args.rows, events, people)
    print(f"generated the copy's tables in {time.perf_counter() - began:.0f} s: "
          + ", ".join(f"{k} {t.num_rows:,}" for k, t in tables.items())
          + f" (the goal events of {events:,}); {people:,} people; {uptime()}")  # fmt: skip
    catalog = Catalog(BUILTIN_DIR)
    assessment = Assessment(engine, catalog, AssessmentConfig(refresh_seconds=86_400, rebuild_seconds=86_400))
    goals = [(n, d.goal_event, d.goal_window_days * 86_400.0) for n, d in declarations(catalog).items() if d.goal_event]
    cpu, began = time.process_time(), time.perf_counter()
    assessment.replica.load(tables, goals, {1: "branch", 2: "crm"}, time.time())
    del tables
    print(f"{'columnar copy made from them (facts + rollups)':<52} {time.perf_counter() - began:8.1f} s   "
          f"(CPU {time.process_time() - cpu:.0f} s)   {uptime()}")  # fmt: skip
    reports(assessment, args, people)
    pages(url, assessment, args.pages, refresh=False)
    print(f"peak memory of this process: {peak_rss_mb():.0f} MB; {uptime()}")


def run(url: str, args: argparse.Namespace, people: int) -> None:
    fill(url, args, people)
    engine = create_db_engine(url)
    with engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT max({k}) FROM {t}")).scalar() or 0  # noqa: S608  # our own table and column names, the values are bound
                  for t, k in (("communications", "id"), ("communication_outcomes", "id"),
                               ("profile_events", "event_id"))}  # fmt: skip
    print(f"database: {engine.dialect.name}; rows (top ids): {counts}; {people:,} people; {uptime()}")

    config = AssessmentConfig(refresh_seconds=3600, rebuild_seconds=86_400)
    assessment = Assessment(engine, Catalog(BUILTIN_DIR), config)
    cpu, began = time.process_time(), time.perf_counter()
    assessment.inventory()
    print(f"{'columnar copy: first build (+ inventory)':<52} {time.perf_counter() - began:8.1f} s   "
          f"(CPU {time.process_time() - cpu:.0f} s)   {uptime()}")  # fmt: skip
    reports(assessment, args, people)
    pages(url, assessment, args.pages)

    fresh = max(args.rows // 1000, 1000)
    generate(engine, fresh, people, first_id=args.rows + 1)
    assessment.replica.refresh_seconds = 0.0
    began = time.perf_counter()
    assessment.inventory()
    print(f"{f'catch-up after {fresh:,} new sends (+ inventory)':<52} {(time.perf_counter() - began) * 1000:8.0f} ms")

    with engine.connect() as conn:
        began = time.perf_counter()
        conn.execute(text(
            "SELECT coalesce(template, type), count(*), count(DISTINCT batch), min(sent_at), max(sent_at) "
            "FROM communications GROUP BY 1"
        )).all()  # fmt: skip
        print(f"{'inventory GROUP BY in the store itself':<52} {(time.perf_counter() - began) * 1000:8.0f} ms")
    print(f"peak memory of this process: {peak_rss_mb():.0f} MB; {uptime()}")
    engine.dispose()


def reports(assessment: Assessment, args: argparse.Namespace, people: int) -> None:
    """Each report on the warm copy: p50/p99 and the process's CPU a run (DuckDB's threads included)."""
    members = frozenset(range(1, people, 10))
    for label, call in (
        ("inventory (warm copy)", assessment.inventory),
        ("flow map (warm copy)", assessment.flow_map),
        ("effectiveness (warm copy)", assessment.effectiveness),
        ("effectiveness by product (warm copy)", lambda: assessment.effectiveness(segment="product")),
        (f"effectiveness by a segment of {len(members):,} (warm)",
         lambda: assessment.effectiveness(segment="tenth", members=members)),
        ("bottlenecks (warm copy)", assessment.bottlenecks),
        ("redundancy (warm copy)", assessment.redundancy),
        # The same reports over every message (a period not of whole days skips the per-day counts): what the
        # per-day counts save, on the same copy, interleaved with the figures above.
        ("inventory, every message read", lambda: assessment.inventory(EVERY_MESSAGE)),
        ("flow map, every message read", lambda: assessment.flow_map(EVERY_MESSAGE)),
        ("effectiveness, every message read", lambda: assessment.effectiveness(EVERY_MESSAGE)),
        ("bottlenecks, every message read (exact p50/p95)", lambda: assessment.bottlenecks(EVERY_MESSAGE)),
    ):  # fmt: skip
        cpu = time.process_time()
        timed(label, args.runs, call)
        print(f"{'':<52} CPU {(time.process_time() - cpu) / args.runs * 1000:8.0f} ms a run")


def pages(url: str, assessment: Assessment, requests: int, *, refresh: bool = True) -> None:
    """The console's communications pages through the app, signed in as an analyst, on the warm copy (with
    `refresh`, the app's own refresh period, 5 s, so catch-ups happen between requests as they would)."""
    folder = tempfile.mkdtemp(prefix="seamline-assess-console-")
    engine = create_db_engine(url)
    username = f"bench{int(time.time())}"
    with unit_of_work(engine) as session:
        create_user(session, username, "analyst", PASSWORD,
                    actor=Principal("bench", "operator", frozenset(), "cli"), config=ConsoleConfig())  # fmt: skip
    engine.dispose()
    if refresh:
        assessment.replica.refresh_seconds = AssessmentConfig().refresh_seconds
    settings = Settings(database_url=url, data_dir=folder)
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        client.app.state.assessment = assessment  # type: ignore[attr-defined]  # the copy built above, warm
        form = client.get("/console/login").text
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        worst: dict[str, float] = {}
        for page in PAGES:
            url_of = f"/console/communications{page}"
            assert client.get(url_of).status_code == 200, url_of  # warm: templates, the page's first read

            def get(target: str = url_of) -> None:
                assert client.get(target).status_code == 200

            worst[url_of] = timed_p99(f"console {url_of}", requests, get)
    print(f"console pages p99, warm (goal < 1 s; {uptime()}):")
    for url_of, p99 in worst.items():
        print(f"  {url_of:<52} {p99 * 1000:8.0f} ms{'' if p99 < 1.0 else '   NOT MET'}")


def timed_p99(label: str, runs: int, call: Callable[[], object]) -> float:
    """`measuring.timed`'s line with the process's CPU a request (the app runs in this process: it moves far less
    with the machine's load than the latency), and the p99 in seconds for the summary."""
    seconds = []
    cpu = time.process_time()
    for _ in range(runs):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    cpu = (time.process_time() - cpu) / runs
    seconds.sort()
    p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))]
    print(f"{label:<52} p50 {statistics.median(seconds) * 1000:8.0f} ms   p99 {p99 * 1000:8.0f} ms   "
          f"CPU {cpu * 1000:6.0f} ms a request ({runs} runs; load {os.getloadavg()[0]:.1f})")  # fmt: skip
    return p99


if __name__ == "__main__":
    main()
