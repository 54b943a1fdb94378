"""Identity benchmark: worker throughput, accuracy against ground truth, and profile lookup over HTTP.

Prints figures; asserts nothing. Steps:
1. Generate synthetic people and a realistic event stream (anonymous sessions, logins, cross-device, shared
   tablets, phone-only calls, CRM records, placeholders) with the truth of who caused each event.
2. Load the stream into the inbox exactly as the tracking API stores it (wire.parse_batch + append_events).
3. Time one worker draining it (identity resolution and profile facts, committed per batch) -> events/s.
4. Score the resolved graph against truth: pairwise precision and recall of "same profile" vs "same person".
5. Top up to --lookup-profiles profiles with one identify each (through the same worker), start
   `seamline serve --no-worker` on the database, and drive GET /v1/profiles/lookup from a separate process:
   the most requests/s from 32 connections, and p50/p99 at a steady --rate requests/s.

    python benchmarks/identity.py                      # 1M events over 100k people, lookups over 1M profiles
    python benchmarks/identity.py --quick              # a small run, for a smoke test
    python benchmarks/identity.py --no-lookups         # steps 1-4 only: the worker's rate and accuracy
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, text

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.core.db import WRITE_INTENT, create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.ingestion import repository as inbox
from seamline.ingestion.wire import Limits, parse_batch
from seamline.sources.service import create_source
from seamline.synthetic.events import SyntheticEvent, generate_events
from seamline.synthetic.people import generate_people
from seamline.synthetic.truth import pairwise_scores
from seamline.worker.runner import Worker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import closed_loop, percentile, serving, steady


def load_inbox(engine: Engine, events: list[SyntheticEvent], sources: dict[str, int]) -> float:
    """Store the events as the tracking API would (validated, normalized, idempotent); returns seconds."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    limits = Limits()
    with engine.execution_options(**{WRITE_INTENT: True}).begin() as conn:
        for start in range(0, len(events), 2000):
            by_source: dict[str, list[dict[str, Any]]] = {}
            for event in events[start : start + 2000]:
                by_source.setdefault(event.source, []).append(event.message)
            rows = [(sources[s], now, parse_batch({"batch": msgs}, now, limits)) for s, msgs in by_source.items()]
            inbox.append_events(conn, rows)
    return time.perf_counter() - started


def resolve_all(engine: Engine, settings: Settings) -> tuple[int, float]:
    worker = Worker(engine, settings)
    started, cpu, load_before = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    count = worker.drain()
    seconds = time.perf_counter() - started
    if count:
        print(
            f"  (drain: {time.process_time() - cpu:.1f} s of CPU in {seconds:.1f} s; "
            f"load average {load_before:.2f} -> {os.getloadavg()[0]:.2f})"
        )
    return count, seconds


def score(engine: Engine, truth: dict[str, str], scenario: dict[str, str]) -> dict[str, Any]:
    """Pairwise scores of the resolved graph against `truth` (message id -> person), and where people mix."""
    with engine.connect() as conn:
        predicted = dict(
            conn.execute(
                text(
                    "SELECT e.message_id, pe.profile_id FROM profile_events pe "
                    "JOIN inbox_events e ON e.id = pe.event_id"
                )
            ).all()
        )
        profiles = conn.execute(text("SELECT count(*) FROM profiles WHERE merged_into_id IS NULL")).scalar()
        merges = conn.execute(text("SELECT count(*) FROM merges")).scalar()
    overall = pairwise_scores(predicted, {k: truth[k] for k in predicted})
    mixed: Counter[str] = Counter()
    people_in: dict[Any, set[str]] = {}
    for message_id, profile in predicted.items():
        people_in.setdefault(profile, set()).add(truth[message_id])
    for message_id, profile in predicted.items():
        if len(people_in[profile]) > 1:
            mixed[scenario[message_id]] += 1
    return {"scores": overall, "profiles": profiles, "merges": merges, "mixed_by_scenario": dict(mixed)}


def top_up(engine: Engine, settings: Settings, source_id: int, target: int, seed: int) -> tuple[int, float]:
    """Add one identify per extra person until `target` active profiles exist; returns (added, seconds)."""
    with engine.connect() as conn:
        have = int(conn.execute(text("SELECT count(*) FROM profiles WHERE merged_into_id IS NULL")).scalar() or 0)
    missing = max(0, target - have)
    now = datetime.now(UTC)
    limits = Limits()
    with engine.execution_options(**{WRITE_INTENT: True}).begin() as conn:
        for start in range(0, missing, 2000):
            batch = [
                {
                    "type": "identify",
                    "userId": f"bench-{seed}-{n}",
                    "traits": {"email": f"bench{n}.{seed}@example.org", "name": f"Bench Person {n}"},
                    "messageId": f"bench-{seed}-{n}",
                }
                for n in range(start, min(missing, start + 2000))
            ]
            inbox.append_events(conn, [(source_id, now, parse_batch({"batch": batch}, now, limits))])
    added, seconds = resolve_all(engine, settings)
    return added, seconds


def lookup_targets(engine: Engine, count: int, seed: int) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT type, value FROM identifiers WHERE type IN ('email', 'user_id', 'phone') ORDER BY id")
        ).all()
    rng = random.Random(seed)
    picks = rng.sample(rows, min(count, len(rows)))
    return [f"{t}:{v}" for t, v in picks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--lookup-profiles", type=int, default=1_000_000, help="profiles stored for lookups")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rates", default="500,800,1000", help="comma-separated requests/s for the steady-rate latency runs"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each lookup run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="10k events over 1k people, 20k profiles, 3 s runs")
    parser.add_argument(
        "--no-lookups", action="store_true", help="stop after the worker's figures and accuracy (no top-up, no HTTP)"
    )
    args = parser.parse_args()
    if args.quick:
        args.people, args.events, args.lookup_profiles, args.seconds = 1_000, 10_000, 20_000, 3.0

    workdir = Path(tempfile.mkdtemp(prefix="seamline-identity-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'seamline.db'}"
    settings = Settings(database_url=database_url, data_dir=workdir)
    engine = create_db_engine(database_url)
    upgrade(engine)
    print(f"machine: {os.cpu_count()} cores; database: {engine.dialect.name}")

    started = time.perf_counter()
    people = generate_people(args.people, args.seed)
    events = list(generate_events(people, args.events, args.seed, datetime(2026, 1, 1, tzinfo=UTC)))
    print(f"generated {len(events):,} events over {len(people):,} people in {time.perf_counter() - started:.1f} s")
    with unit_of_work(engine) as session:
        sources = {name: create_source(session, name, "server")[0].id for name in sorted({e.source for e in events})}
        bench_source = create_source(session, "bench-import", "import")[0].id
        _view, api_key = create_api_key(session, "bench", ["profiles:read"])
    print(f"loaded the inbox in {load_inbox(engine, events, sources):.1f} s")
    # The worker runs in this process: keep only what scoring needs (plain strings, which the collector does not
    # track), so that its full collections do not walk a million generated messages no worker process holds.
    truth = {e.message["messageId"]: e.person_key for e in events}
    scenario = {e.message["messageId"]: e.scenario for e in events}
    del events, people
    gc.collect()

    count, seconds = resolve_all(engine, settings)
    print(f"worker: resolved {count:,} events in {seconds:.1f} s = {count / seconds:,.0f} events/s (one worker)")
    result = score(engine, truth, scenario)
    s = result["scores"]
    print(
        f"accuracy: pairwise precision {s.precision:.6f}, recall {s.recall:.4f}, F1 {s.f1:.4f} "
        f"({s.correct_pairs:,} of {s.predicted_pairs:,} predicted pairs correct; {s.true_pairs:,} true pairs)"
    )
    print(f"graph: {result['profiles']:,} active profiles, {result['merges']:,} merges")
    print(f"events in profiles that mix people, by scenario: {result['mixed_by_scenario'] or 'none'}")
    if args.no_lookups:
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)
        return

    added, seconds = top_up(engine, settings, bench_source, args.lookup_profiles, args.seed)
    if added:
        print(f"topped up with {added:,} identifies in {seconds:.1f} s = {added / seconds:,.0f} events/s")
    with engine.connect() as conn:
        profiles = conn.execute(text("SELECT count(*) FROM profiles WHERE merged_into_id IS NULL")).scalar()
    targets = lookup_targets(engine, 20_000, args.seed)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # a database at rest before the server starts
    engine.dispose()

    base_paths = [f"/v1/profiles/lookup?identifier={quote(t, safe=':')}" for t in targets]
    try:
        print(f"lookup over HTTP with {profiles:,} profiles stored (every answer audited):")
        lookups(database_url, workdir, api_key, base_paths, args, read_audit_fsync=True)
        print("  the same, audit commits not waiting for the disk (SEAMLINE_READ_AUDIT_FSYNC=false):")
        lookups(database_url, workdir, api_key, base_paths, args, read_audit_fsync=False, peak=False)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def lookups(
    database_url: str,
    workdir: Path,
    api_key: str,
    paths: list[str],
    args: argparse.Namespace,
    *,
    read_audit_fsync: bool,
    peak: bool = True,
) -> None:
    """Start a server, drive lookups at it from a separate process, print figures with the server's CPU per answer."""
    with serving(database_url, workdir, api_key, read_audit_fsync=read_audit_fsync) as (pool, server, base, headers):
        pool.apply(closed_loop, (base, paths, headers, 4, 3.0))  # warm up: caches, compiled statements
        if peak:
            run = pool.apply(closed_loop, (base, paths, headers, args.connections, args.seconds))
            print(
                f"  peak: {run['ok'] / run['seconds']:,.0f} requests/s from {args.connections} connections "
                f"(p50 {percentile(run['latencies'], 50):.2f} ms, p99 {percentile(run['latencies'], 99):.2f} ms, "
                f"{run['errors']} errors)"
            )
        for rate in (int(r) for r in args.rates.split(",")):
            print("  " + steady(pool, server.pid, base, paths, headers, rate, args.seconds, args.connections))


if __name__ == "__main__":
    main()
