"""Reports benchmark: the CX overview dashboard over a store of N events, once warm.

Generates a store straight into a migrated SQLite file (or PostgreSQL): the communications log (communications
and their outcomes, each one event the log was written from: ~3.3 rows a communication, so `--events 10000000` is
~3M communications and ~7M outcomes, as the assessment benchmark makes them), cases and goal events, customers
(profiles), consent and paperless choices for most of them, journey instances, and communication errors reported
through the service. Then measures, as an analyst (every tile):

  - the first overview (the assessment's columnar copy is built: the cold start),
  - the overview once warm, as served (tiles reused for `[reports] cache_seconds`): p50/p99 of `--runs`,
  - the overview once warm with no tile cache (every tile recomputed on the warm columnar copy): p50/p99,
  - each tile on its own, no tile cache.

Prints figures; asserts nothing. Print `uptime` beside them: the machine is shared.

    python benchmarks/reports.py [--events 10000000] [--runs 50] [--postgres | --database-url URL]

Goal (issue 19): the overview dashboard p99 < 1 s at 10M events once warm.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the assessment benchmark's communications log
from assessment import START, generate
from measuring import add_database_options, database, peak_rss_mb, uptime
from measuring import timed as timed_each
from seamline.analytics.service import Analytics
from seamline.assessment.config import AssessmentConfig
from seamline.assessment.service import Assessment
from seamline.communications.config import BUILTIN_DIR
from seamline.communications.templates import Catalog
from seamline.consent.models import ConsentChoice
from seamline.core.db import create_db_engine, table_of, unit_of_work
from seamline.core.migrations import upgrade
from seamline.core.principal import Principal
from seamline.errors.policy import read_policy
from seamline.errors.service import Report, report_errors
from seamline.identity.models import Profile
from seamline.journeys.models import JourneyDefinitionRow, JourneyInstance
from seamline.reports.catalog import ReportEntry, entry
from seamline.reports.config import ReportsConfig
from seamline.reports.dashboards import Dashboards, compose
from seamline.reports.filters import Filters

ROWS_PER_COMMUNICATION = 3.3  # a communication and ~2.3 outcomes
CHUNK = 50_000
BENCH = Principal(name="cli:bench", kind="operator", scopes=frozenset(), surface="cli")

timed = partial(timed_each, precise=True)


def _rows(conn: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        conn.execute(insert(table_of(model)), rows[i : i + CHUNK])


def customers(engine: Engine, people: int) -> None:
    """Profiles, consent and paperless choices, journey instances: the overview's other inputs."""
    rng = random.Random(7)
    at = START
    steps = [{"key": k} for k in ("details", "verify", "sign")]
    with engine.begin() as conn:
        _rows(
            conn,
            Profile,
            [{"id": p, "created_at": at, "updated_at": at, "merge_count": 0} for p in range(1, people + 1)],
        )
        choices = []
        for p in range(1, people + 1):
            roll = rng.random()
            if roll < 0.8:
                value = "granted" if roll < 0.6 else "denied"
                choices.append(("consent", "marketing", "email", None, value))
            if rng.random() < 0.7:
                choices.append(("delivery", None, None, "statements", "electronic" if rng.random() < 0.7 else "paper"))
            for kind, purpose, channel, document_type, value in choices:
                choices_row = {
                    "profile_id": p, "origin_profile_id": p, "kind": kind, "purpose": purpose, "channel": channel,
                    "topic": None, "product": None, "document_type": document_type, "value": value, "actor": "bench",
                    "surface": "import", "evidence": {}, "recorded_at": at, "effective_at": at,
                }  # fmt: skip
                _buffer.append(choices_row)
            choices.clear()
            if len(_buffer) >= CHUNK:
                _rows(conn, ConsentChoice, _buffer)
                _buffer.clear()
        _rows(conn, ConsentChoice, _buffer)
        _buffer.clear()
        for key in ("open_account", "mortgage"):
            conn.execute(insert(table_of(JourneyDefinitionRow)), [
                {"key": key, "name": key.replace("_", " "), "body": {"steps": steps}, "revision": 1, "loaded_at": at}
            ])  # fmt: skip
        statuses = ("open", "stalled", "abandoned", "completed", "completed", "completed")
        instances = []
        for n in range(1, people // 3 + 1):
            status = statuses[rng.randrange(len(statuses))]
            step = None if status == "completed" else steps[rng.randrange(3)]["key"]
            instances.append({
                "public_id": f"j{n}", "journey": ("open_account", "mortgage")[n % 2], "profile_id": n,
                "origin_profile_id": n, "status": status, "current_step": step, "step_since": at, "started_at": at,
                "started_channel": "web", "last_activity_at": at, "completed_at": at if step is None else None,
                "quiet_since": None, "joined_into": None, "event_id": n,
            })  # fmt: skip
        _rows(conn, JourneyInstance, instances)


_buffer: list[dict[str, Any]] = []


def errors(engine: Engine, count: int) -> None:
    policy = read_policy(None)
    fields = ("balance", "name", "address", "recipient")
    with unit_of_work(engine) as session:
        report_errors(
            session, policy, [Report([f"b-{i * 97 + 1}"], fields[i % len(fields)]) for i in range(count)],
            actor=BENCH, intake="api",
        )  # fmt: skip


def _one(dashboards: Dashboards, report: ReportEntry, filters: Filters) -> None:
    with dashboards.reading() as reading:  # a reading of its own: nothing shared with another tile
        compose(reading, report, filters, "analyst")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=50)
    add_database_options(parser)
    args = parser.parse_args()
    with database(args, "reports") as url:
        run(url, args)


def run(url: str, args: argparse.Namespace) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    communications = int(args.events / ROWS_PER_COMMUNICATION)
    people = max(communications // 10, 100)
    print(f"database: {engine.dialect.name}; ~{args.events:,} events")
    print(f"{communications:,} communications, {people:,} people")
    print(f"load before: {uptime()}")
    began = time.perf_counter()
    generate(engine, communications, people)
    customers(engine, people)
    errors(engine, min(300, communications // 97))  # each about a communication that exists (b-1, b-98, …)
    with engine.connect() as conn:
        counted = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()  # noqa: S608 (our own table names)
            for t in ("communications", "communication_outcomes", "profile_events", "cases", "consent_choices",
                      "journey_instances", "comm_errors", "profiles")
        }  # fmt: skip
    print(f"generated in {time.perf_counter() - began:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counted.items()))
    stored = counted["communications"] + counted["communication_outcomes"] + counted["profile_events"]
    print(f"events in the store (communications + outcomes + tracked events): {stored:,}")

    assessment = Assessment(engine, Catalog(BUILTIN_DIR), AssessmentConfig())  # refreshes every 5 s, as shipped
    analytics = Analytics(engine)  # journey analytics' columnar copy, as the app makes it
    overview = entry("overview")
    assert overview is not None
    whole = Filters(since=date(2026, 9, 1), until=date(2026, 11, 30))
    served = Dashboards(engine, assessment, analytics, ReportsConfig())
    began = time.perf_counter()
    served.compute(overview, whole, "analyst")
    print(f"{'first overview (columnar copy built: cold)':<52} {time.perf_counter() - began:8.1f} s   {uptime()}")

    timed("overview once warm, as served (tiles fresh)", args.runs, lambda: served.compute(overview, whole, "analyst"))
    # Every request finds its tiles stale: it shows them and starts their refresh behind (the worst case once warm:
    # the refreshes run on the same two cores as the requests).
    behind = Dashboards(engine, assessment, analytics, ReportsConfig(cache_seconds=0.001))
    behind.compute(overview, whole, "analyst")
    timed(
        "overview once warm, tiles stale, refreshed behind",
        args.runs,
        lambda: behind.compute(overview, whole, "analyst"),
    )
    behind.wait_for_refreshes()
    bare = Dashboards(engine, assessment, analytics, ReportsConfig(cache_seconds=0))
    timed("overview once warm, no tile cache", max(args.runs // 5, 3), lambda: bare.compute(overview, whole, "analyst"))
    last_month = Filters(since=date(2026, 11, 1), until=date(2026, 11, 30), channel="email", segment="product")
    timed("  … November, email, by product, no tile cache", max(args.runs // 5, 3),
          lambda: bare.compute(overview, last_month, "analyst"))  # fmt: skip
    for slot in overview.tiles:
        if slot.provider is not None:
            single = ReportEntry(overview.key, overview.title, overview.path, overview.permission, "", (slot,))
            timed(f"  tile {slot.key}, no tile cache", max(args.runs // 5, 3), partial(_one, bare, single, whole))
    print(f"peak memory of this process: {peak_rss_mb():.0f} MB; load after: {uptime()}")
    print(
        f"now: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; data from {START:%Y-%m-%d} over {timedelta(days=90).days} days"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
