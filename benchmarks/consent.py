"""Consent benchmark: may_contact decisions per second on a profile with 5 products and 50 consent versions.

Prints figures; asserts nothing.
1. The pure policy over choices already in memory (what a decision engine holding a profile does).
2. The stored profile: load its choices for the purpose from the database, then decide (one transaction each),
   as `/v1/profiles/{id}/may-contact` does before HTTP.
3. The API: with --profiles stored (1M by default), `seamline serve --no-worker` answers
   `GET /v1/profiles/{id}/may-contact` for the target profile at steady rates (open loop from a separate process,
   latency counted from each request's scheduled time), every answer audited.

The other profiles are written straight into the tables (one email and one consent choice each) rather than
through the worker: the route reads profiles, identifiers and consent choices by primary key and index, so what
matters is that those tables and indexes hold a million people; the worker's own rate is measured by identity.py.

    python benchmarks/consent.py [--seconds 5] [--profiles 1000000] [--rates 500,1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from seamline.access.service import create_api_key
from seamline.communications.reachability import reachability
from seamline.consent.config import ConsentConfig
from seamline.consent.models import ConsentChoice
from seamline.consent.policy import Reachability, may_contact
from seamline.consent.service import history, may_contact_profile, record_choice
from seamline.core.db import create_db_engine, table_of, unit_of_work
from seamline.core.migrations import upgrade
from seamline.core.prepared import read_snapshot
from seamline.identity.models import IdentifierLink, Profile
from seamline.identity.service import active_header

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import load, open_loop, serving, steady

PRODUCTS = ["CHK-1", "CC-9", "MTG-3", "SAV-7", "LOAN-2"]
FILL_CHUNK = 50_000


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


def fill(database_url: str, target: int, profiles: int) -> float:
    """Store `profiles` profiles in all (the target included), each with an email and one consent choice."""
    engine = create_db_engine(database_url, sqlite_synchronous="OFF")
    started = time.perf_counter()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        have = int(conn.execute(select(func.count()).select_from(table_of(Profile))).scalar_one())
        conn.execute(
            insert(table_of(IdentifierLink)),
            [{"profile_id": target, "type": "email", "value": "target@example.com", "first_seen_at": at,
              "last_seen_at": at}],
        )  # fmt: skip
    for start in range(have, profiles, FILL_CHUNK):
        count = min(FILL_CHUNK, profiles - start)
        with engine.begin() as conn:
            ids = (
                conn.execute(
                    insert(table_of(Profile)).returning(table_of(Profile).c.id),
                    [{"created_at": at, "updated_at": at, "merge_count": 0} for _ in range(count)],
                )
                .scalars()
                .all()
            )
            conn.execute(
                insert(table_of(IdentifierLink)),
                [{"profile_id": pid, "type": "email", "value": f"p{pid}@example.com", "first_seen_at": at,
                  "last_seen_at": at} for pid in ids],
            )  # fmt: skip
            conn.execute(
                insert(table_of(ConsentChoice)),
                [{"profile_id": pid, "origin_profile_id": pid, "kind": "consent", "purpose": "marketing",
                  "channel": "email", "value": "granted", "actor": "bench", "surface": "api", "evidence": {},
                  "recorded_at": at, "effective_at": at} for pid in ids],
            )  # fmt: skip
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            # A database at rest: the bulk load's write-ahead log is folded in before the server starts, rather than
            # by the first audit commit in the middle of a run.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return time.perf_counter() - started


def http_runs(database_url: str, workdir: Path, profile_id: int, args: argparse.Namespace) -> None:
    """The may-contact route over HTTP at steady rates, with `args.profiles` profiles stored."""
    seconds = fill(database_url, profile_id, args.profiles)
    print(f"stored {args.profiles:,} profiles (each with an email and a consent choice) in {seconds:.1f} s")
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        _view, api_key = create_api_key(session, "bench", ["profiles:read"])
    engine.dispose()
    questions = [
        f"purpose={purpose}&channel={channel}" + (f"&product={product}" if product else "")
        for purpose in ("marketing", "analytics")
        for channel in ("email", "sms", "push")
        for product in (None, *PRODUCTS)
    ]
    paths = [f"/v1/profiles/{profile_id}/may-contact?{q}" for q in questions]
    for read_audit_fsync in (True, False):
        if not read_audit_fsync:
            print("the same, audit commits not waiting for the disk (SEAMLINE_READ_AUDIT_FSYNC=false):")
        steady_runs(database_url, workdir, api_key, paths, args, read_audit_fsync=read_audit_fsync)


def steady_runs(
    database_url: str,
    workdir: Path,
    api_key: str,
    paths: list[str],
    args: argparse.Namespace,
    *,
    read_audit_fsync: bool,
) -> None:
    with serving(database_url, workdir, api_key, read_audit_fsync=read_audit_fsync) as (pool, server, base, headers):
        pool.apply(open_loop, (base, paths, headers, 200, 3.0, 8))  # warm up: caches, compiled statements
        for rate in (int(r) for r in args.rates.split(",")):
            line = steady(pool, server.pid, base, paths, headers, rate, args.http_seconds, args.connections)
            print(f"may-contact over HTTP, {args.profiles:,} profiles stored, {line}")


def route_body_cpu_us(engine: Engine, profile_id: int, config: ConsentConfig, requests: int = 3_000) -> float:
    """CPU per request of what the may-contact route does between parsing and answering (its transaction, the
    profile header, reachability, the ledger read and the policy), without HTTP: a figure the machine's other
    load barely moves, unlike latency."""
    questions = [(p, c, pr) for p in ("marketing", "analytics") for c in ("email", "sms") for pr in (None, "CC-9")]

    def once(purpose: str, channel: str, product: str | None) -> None:
        with read_snapshot(engine) as reads:
            profile = active_header(reads, profile_id)
            reach = reachability(reads, profile.id, [channel])
            may_contact_profile(reads, profile.id, purpose, channel, product=product, reachability=reach, config=config)

    for n in range(300):  # warm up
        once(*questions[n % len(questions)])
    started = time.process_time()
    for n in range(requests):
        once(*questions[n % len(questions)])
    return (time.process_time() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--versions", type=int, default=50)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument("--profiles", type=int, default=1_000_000, help="profiles stored for the HTTP runs")
    parser.add_argument("--rates", default="500,1000", help="comma-separated requests/s of the HTTP runs")
    parser.add_argument("--http-seconds", type=float, default=20.0, help="length of each HTTP run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP runs (and storing --profiles)")
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
    print(f"machine: {os.cpu_count()} cores; database: {engine.dialect.name}; load {load()}")
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
    print(f"may-contact route body in-process: {route_body_cpu_us(engine, profile_id, config):,.0f} us CPU per request")
    engine.dispose()
    if not args.no_http:
        http_runs(database_url, workdir, profile_id, args)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
