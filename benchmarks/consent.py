"""Consent benchmark: may_contact decisions per second on a profile with 5 products and 50 consent versions.

Prints figures; asserts nothing.
1. The pure policy over choices already in memory (what a decision engine holding a profile does).
2. The stored profile: load its choices for the purpose from the database, then decide (one transaction each),
   as `/v1/profiles/{id}/may-contact` does before HTTP.

    python benchmarks/consent.py [--seconds 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seamline.consent.config import ConsentConfig
from seamline.consent.policy import Reachability, may_contact
from seamline.consent.service import history, may_contact_profile, record_choice
from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.identity.models import Profile

PRODUCTS = ["CHK-1", "CC-9", "MTG-3", "SAV-7", "LOAN-2"]


def seed(database_url: str, config: ConsentConfig, versions: int, rng: random.Random) -> int:
    engine = create_db_engine(database_url)
    upgrade(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with unit_of_work(engine) as session:
        profile = Profile(created_at=start, updated_at=start, merge_count=0)
        session.add(profile)
        session.flush()
        for n in range(versions):
            record_choice(
                session,
                profile.id,
                kind="consent",
                purpose=rng.choice(["marketing", "analytics", "personalization", "profiling"]),
                channel=rng.choice([None, *config.channels]),
                topic=rng.choice([None, *config.topics]),
                product=rng.choice([None, *PRODUCTS]),
                value=rng.choice(["granted", "denied"]),
                actor="bench",
                surface="api",
                effective_at=start + timedelta(hours=n),
                config=config,
            )
        profile_id = profile.id
    engine.dispose()
    return profile_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    args = parser.parse_args()

    config = ConsentConfig()
    rng = random.Random(5)
    workdir = Path(tempfile.mkdtemp(prefix="seamline-consent-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'seamline.db'}"
    profile_id = seed(database_url, config, args.versions, rng)
    engine = create_db_engine(database_url)
    reach = {c: Reachability(True, "on file") for c in config.channels}
    questions = [
        (purpose, channel, topic, product)
        for purpose in ("marketing", "analytics", "service")
        for channel in config.channels
        for topic in (None, *config.topics)
        for product in (None, *PRODUCTS)
    ]
    with unit_of_work(engine, write=False) as session:
        choices = history(session, profile_id)
    now = datetime.now(UTC)
    print(f"machine: {os.cpu_count()} cores; database: {engine.dialect.name}")
    print(f"profile with {len(PRODUCTS)} products and {len(choices)} consent versions; {len(questions)} questions")

    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        for purpose, channel, topic, product in questions:
            may_contact(
                choices, purpose, channel, topic=topic, product=product, now=now, reachability=reach, config=config
            )
        done += len(questions)
    elapsed = time.perf_counter() - started
    print(f"in-process policy over loaded choices: {done / elapsed:,.0f} decisions/s")

    done, started = 0, time.perf_counter()
    latencies: list[float] = []
    while time.perf_counter() - started < args.seconds:
        for purpose, channel, topic, product in questions[:50]:
            t0 = time.perf_counter()
            with unit_of_work(engine, write=False) as session:
                may_contact_profile(
                    session,
                    profile_id,
                    purpose,
                    channel,
                    topic=topic,
                    product=product,
                    reachability=reach,
                    config=config,
                )
            latencies.append((time.perf_counter() - t0) * 1000)
        done += 50
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(
        f"stored profile (load + decide, one transaction each): {done / elapsed:,.0f} decisions/s, "
        f"p50 {latencies[len(latencies) // 2]:.3f} ms, p99 {p99:.3f} ms"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
