"""Feedback benchmark: the rollups and the score trend over many answers.

Generates survey answers (with their people's communication errors and cases) straight into a migrated SQLite file
(or PostgreSQL), then measures each rollup (by touchpoint, agent, journey step, communication type, survey) and the
daily and weekly trends over the last 90 days: p50/p99 of repeated runs. The rollups read the period's answers'
grouping columns and count the same people's errors and cases in bulk.

Prints figures; asserts nothing. Print `uptime` beside them: the machine is shared.

    python benchmarks/feedback.py [--answers 200000] [--runs 7] [--postgres | --database-url URL]

Every person also gets a `segment` trait (a third `premier`), and the customer-segment filter is measured: reading
the segment's members from the golden record (triggers.membership.Audience) and a rollup of their answers only.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert

from measuring import add_database_options, database, timed, uptime
from seamline.cases.models import Case
from seamline.core.db import create_db_engine, table_of, unit_of_work
from seamline.core.migrations import upgrade
from seamline.errors.models import CommError
from seamline.feedback.models import SurveyAnswer
from seamline.feedback.rollups import DIMENSIONS, rollup, score_trend
from seamline.profiles.models import TraitValue
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.sources.models import Source
from seamline.triggers.membership import Audience
from seamline.triggers.segments import parse_segments

CHUNK = 50_000
SURVEYS = (
    ("csat_case", "csat", "case_resolved", 1, 5),
    ("nps_journey", "nps", "journey_completed", 0, 10),
    ("ces_message", "ces", "message_delivered", 1, 7),
    ("csat_branch", "csat", "branch_visit", 1, 5),
)
AGENTS = [f"agent-{i}" for i in range(60)]
STEPS = [f"journey-{j}/step-{s}" for j in range(6) for s in range(5)]
TYPES = ("statement", "notice", "service", "marketing")


def generate(engine: Engine, answers: int, people: int, now: datetime) -> None:
    rng = random.Random(7)
    table = table_of(SurveyAnswer)
    for base in range(0, answers, CHUNK):
        rows: list[dict[str, Any]] = []
        for i in range(base, min(base + CHUNK, answers)):
            survey, kind, touchpoint, low, high = SURVEYS[i % len(SURVEYS)]
            pid = rng.randrange(1, people)
            rows.append({
                "survey": survey, "kind": kind, "touchpoint": touchpoint, "profile_id": pid, "origin_profile_id": pid,
                "score": rng.randint(low, high), "via": "page", "snapshot": {},
                "agent": rng.choice(AGENTS) if touchpoint in ("case_resolved", "branch_visit") else None,
                "journey_step": rng.choice(STEPS) if touchpoint == "journey_completed" else None,
                "communication_type": rng.choice(TYPES) if touchpoint == "message_delivered" else None,
                "answered_at": now - timedelta(seconds=rng.randrange(120 * 86_400)),
            })  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
    errors = [{"profile_id": rng.randrange(1, people), "reported_at": now - timedelta(days=rng.randrange(90))}
              for _ in range(answers // 50)]  # fmt: skip
    cases = [{"profile_id": rng.randrange(1, people), "opened_at": now - timedelta(days=rng.randrange(90))}
             for _ in range(answers // 5)]  # fmt: skip
    _fill(engine, errors, cases)


def _fill(engine: Engine, errors: list[dict[str, Any]], cases: list[dict[str, Any]]) -> None:
    """Errors and cases with only what the rollups read filled in meaningfully (the rest: valid placeholders)."""
    e_table, c_table = table_of(CommError), table_of(Case)
    e_required = {c.name: _placeholder(c) for c in e_table.columns if not c.nullable and c.name != "id"}
    c_required = {c.name: _placeholder(c) for c in c_table.columns if not c.nullable and c.name != "id"}
    with engine.begin() as conn:
        for start in range(0, len(errors), CHUNK):
            conn.execute(insert(e_table), [{**e_required, **e} for e in errors[start : start + CHUNK]])
        for start in range(0, len(cases), CHUNK):
            conn.execute(insert(c_table), [{**c_required, "origin_profile_id": c["profile_id"], **c}
                                           for c in cases[start : start + CHUNK]])  # fmt: skip


def _placeholder(column: Any) -> Any:
    kind: Any = str
    with contextlib.suppress(NotImplementedError):
        kind = getattr(column.type, "impl", column.type).python_type
    if kind is datetime:
        return datetime(2026, 1, 1, tzinfo=UTC)
    if kind is bool:
        return False
    if kind in (int, float):
        return 0
    if kind in (dict, list):
        return kind()
    return "x"


def segment_traits(engine: Engine, people: int, now: datetime) -> None:
    """A `segment` trait for every person from one source: every third premier."""
    source = {c.name: _placeholder(c) for c in table_of(Source).columns if not c.nullable and c.name != "id"}
    with engine.begin() as conn:
        source_id = conn.execute(insert(table_of(Source)).values(**{**source, "name": "rm-desk"})).inserted_primary_key
        for base in range(1, people, CHUNK):
            rows = [
                {"profile_id": p, "name": "segment", "value_json": '"premier"' if p % 3 == 0 else '"everyday"',
                 "value_hash": "premier" if p % 3 == 0 else "everyday", "source_id": source_id[0],
                 "first_event_id": 1, "last_event_id": 1, "first_seen_at": now, "last_seen_at": now, "times_seen": 1}
                for p in range(base, min(base + CHUNK, people))
            ]  # fmt: skip
            conn.execute(insert(table_of(TraitValue)), rows)


def run(url: str, args: argparse.Namespace) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    people = max(args.answers // 4, 100)
    now = datetime.now(UTC)
    print(f"database: {engine.dialect.name}; {args.answers:,} answers over 120 days, {people:,} people; {uptime()}")
    began = time.perf_counter()
    generate(engine, args.answers, people, now)
    print(f"generated in {time.perf_counter() - began:.0f} s")
    since, until = now - timedelta(days=90), now
    for by in DIMENSIONS:

        def one(by: str = by) -> object:
            with unit_of_work(engine, write=False) as session:
                return rollup(session, by=by, since=since, until=until)

        timed(f"rollup by {by} (90 days)", args.runs, one)
    for bucket in ("day", "week"):

        def trend(bucket: str = bucket) -> object:
            with unit_of_work(engine, write=False) as session:
                return score_trend(session, since=since, until=until, bucket=bucket)

        timed(f"score_trend per {bucket} (90 days)", args.runs, trend)
    segment_traits(engine, people, now)
    audience = Audience(parse_segments("premier:\n  traits: {segment: premier}\n", "segments.yaml"),
                        SurvivorshipConfig())  # fmt: skip
    with unit_of_work(engine, write=False) as session:
        members = audience.members(session, "premier")
    print(f"segment premier: {len(members):,} of {people:,} people")

    def read_members() -> object:
        with unit_of_work(engine, write=False) as session:
            return audience.members(session, "premier")

    def segment_rollup() -> object:
        with unit_of_work(engine, write=False) as session:
            return rollup(session, by="touchpoint", since=since, until=until, people=members)

    timed("segment members (golden record)", args.runs, read_members)
    timed("rollup by touchpoint, segment only", args.runs, segment_rollup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    add_database_options(parser)
    args = parser.parse_args()
    with database(args, "feedback") as url:
        run(url, args)


if __name__ == "__main__":
    main()
