"""Decisions benchmark: next-best-action decisions with a catalog of 200 actions.

Prints figures; asserts nothing.
1. Pure arbitration over a person already in memory (eligibility, applicability, suitability, Thompson sampling,
   ranking of 200 actions): decisions/s in one process.
2. The service from the database (traits, holdings, purchases, consent, active cases, the model's tallies), then
   arbitration: `decide()` in a unit of work per decision (the console's and the CLI's way), on a read snapshot of
   a held connection (the API's way), and `decide_many()` over batches of stored people (set queries, then
   everyone arbitrated together): decisions/s and per CPU second, over --people stored customers (traits, a
   holding, consent choices each). The goal's in-process figure is `decide_many()` with its reads,
   the collector held off per batch as the worker holds it (start-up objects frozen, as `seamline serve` does);
   pure arbitration alone is not the goal's figure.
3. The API: with --profiles stored, `seamline serve --no-worker` answers `POST /v1/decisions` for the target
   person (a customer: traits, a holding, marketing consent beside ten consent versions; with --bare-target the
   old target, eligible for no action, whose answers were empty lists) at steady rates (open loop from a
   separate process, latency from each request's scheduled time; every answer audited): the default answer (the
   chosen actions with their reasons), or with --explain every action not chosen with the rule that stopped it.

The stored profiles are written straight into the tables (an email and a consent choice each), as consent.py does.
`benchmarks/decisions_inprocess.py` drives the same request through the app in one process, without a server or a
socket: the CPU per answer to compare code with in turns.

    python benchmarks/decisions.py [--seconds 5] [--profiles 1000000] [--rates 500,1000] [--database-url URL]
        [--people 5000] [--batch 500] [--no-http] [--explain] [--bare-target]

Goals (issue 16): in-process >= 20,000 decisions/s; POST /v1/decisions p99 < 10 ms at 1,000 requests/s with 1M
profiles and 200 actions. The last lines print each goal's figure and whether it was met.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import os
import queue
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import insert

from seamline.access.service import create_api_key
from seamline.cases.config import CasesConfig
from seamline.consent.config import ConsentConfig
from seamline.consent.models import ConsentChoice
from seamline.core import collector
from seamline.core.db import create_db_engine, table_of, unit_of_work
from seamline.core.held import HeldReader
from seamline.decisions.arbitration import Person, Situation, arbitrate
from seamline.decisions.catalog import Catalog
from seamline.decisions.conditions import Facts
from seamline.decisions.config import DecisionsConfig
from seamline.decisions.contact import zone_of
from seamline.decisions.many import decide_many
from seamline.decisions.plan import Model, plan_of
from seamline.decisions.propensity import Tally
from seamline.decisions.service import Setup, decide
from seamline.identity.models import Profile
from seamline.profiles.models import Holding, TraitValue
from seamline.profiles.survivorship import SurvivorshipConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from consent import fill, seed
from loadgen import cpu_seconds, load, percentile, serving

PRODUCTS = ["credit_card", "mortgage", "savings_account", "personal_loan", "travel_insurance", "checking_account"]
CHANNELS = ["email", "web", "in_app", "call_center", "sms"]


def write_catalog(folder: Path, count: int, rng: random.Random) -> None:
    """`count` action files: offers, nudges, service messages and surveys with a mix of conditions."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        priority = rng.choices(["marketing", "service", "critical"], [70, 27, 3])[0]
        kind = {"marketing": "offer", "service": rng.choice(["nudge", "survey", "service"]), "critical": "service"}
        conditions = [
            {"not": {"trait": "age", "lt": 18}},
            {"any": [{"trait": "segment", "in": ["mass", "affluent"]}, {"holds": rng.choice(PRODUCTS)}]},
        ]
        if rng.random() < 0.3:
            conditions.append({"open_cases": {"lt": 2}})
        channels = rng.sample(CHANNELS, 3)
        if n % 4 == 0 and "web" not in channels:
            channels.append("web")
        action: dict[str, Any] = {
            "kind": kind[priority], "title": f"Action {n}", "priority": priority, "channels": channels,
            "value": rng.randint(5, 500), "cooldown_days": rng.choice([0, 7, 30]),
            "eligibility": {"all": conditions},
        }  # fmt: skip
        if priority == "marketing":
            action["product"] = rng.choice(PRODUCTS)
        (folder / f"action_{n:03d}.yaml").write_text(orjson.dumps(action).decode())  # JSON is YAML


def pure_runs(catalog: Catalog, config: DecisionsConfig, seconds: float) -> None:
    now = datetime.now(UTC)
    consents = {(p, c): True for p in ("marketing", "service") for c in CHANNELS}
    traits = {"age": 41, "segment": "mass", "phone": "+447700900123"}
    facts = Facts(traits, frozenset({"checking_account"}), [], 0, consents, now, "web",
                  {p: config.names_of(p) for p in PRODUCTS})  # fmt: skip
    zone = zone_of(traits, "timezone", "phone", "UTC")
    person = Person(facts, lambda: zone, segment="mass")
    # The service keeps each segment's model as arrays for a second; built once here as it would be.
    model = Model.of(plan_of(catalog), {a.name: Tally(100, 7, 20, 2) for a in catalog.actions})
    rng = np.random.default_rng(1)
    for explained in (False, True):
        done, started, cpu = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - started < seconds:
            for _ in range(200):
                # A fresh person each time: what one decision learns of the facts is not kept for the next.
                fresh = dataclasses.replace(person, facts=dataclasses.replace(facts, memo={}))
                decision = arbitrate(catalog, fresh, Situation("web", None), model, config, rng, 3)
                if explained:
                    _ = decision.stopped  # the words for every action not chosen, as the API answers them
            done += 200
        rate, cpu_rate = done / (time.perf_counter() - started), done / (time.process_time() - cpu)
        # Per CPU second too: on a shared machine the wall-clock rate measures the other tenants as much as the code.
        what = "with the reasons for every action not chosen" if explained else "top actions only"
        print(
            f"pure arbitration, {len(catalog.actions)} actions, {what}: {rate:,.0f} decisions/s "
            f"({cpu_rate:,.0f} per CPU second; load {load()})"
        )


def _customer(conn: Any, pids: list[int], rng: random.Random) -> None:
    """Age, segment and phone traits, one open holding and a marketing consent choice for each profile."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    traits, holdings, choices = [], [], []
    for pid in pids:
        values = {"age": rng.randint(16, 90), "segment": rng.choice(["mass", "affluent", "student"]),
                  "phone": f"+4477009{pid % 100000:05d}"}  # fmt: skip
        for name, value in values.items():
            encoded = orjson.dumps(value).decode()
            traits.append({"profile_id": pid, "name": name, "value_json": encoded, "value_hash": encoded[:32],
                           "source_id": 1, "first_event_id": 0, "last_event_id": 0, "first_seen_at": at,
                           "last_seen_at": at, "times_seen": 1})  # fmt: skip
        holdings.append({"profile_id": pid, "source_id": 1, "type": rng.choice(PRODUCTS),
                         "external_id": f"H-{pid}", "status": "open", "attributes": {}, "first_event_id": 0,
                         "last_event_id": 0, "updated_at": at})  # fmt: skip
        choices.append({"profile_id": pid, "origin_profile_id": pid, "kind": "consent",
                        "purpose": "marketing", "channel": None, "value": "granted", "actor": "bench",
                        "surface": "api", "evidence": {}, "recorded_at": at, "effective_at": at})  # fmt: skip
    conn.execute(insert(table_of(TraitValue)), traits)
    conn.execute(insert(table_of(Holding)), holdings)
    conn.execute(insert(table_of(ConsentChoice)), choices)


def make_customer(database_url: str, profile_id: int) -> None:
    """Give the HTTP runs' target what a customer has (`_customer`: traits, a holding, marketing consent beside its
    ten consent versions), so the decision asked ranks actions: without them it is eligible for none of the
    catalog's actions and every answer is an empty list (the figures before 2026-12-06's third round)."""
    engine = create_db_engine(database_url)
    with engine.begin() as conn:
        _customer(conn, [profile_id], random.Random(42))
    engine.dispose()


def store_people(database_url: str, count: int, rng: random.Random) -> list[int]:
    """`count` customers written straight into the tables: age, segment and phone traits, one open holding and a
    marketing consent choice each (the decision reads all of them)."""
    engine = create_db_engine(database_url, sqlite_synchronous="OFF")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    ids: list[int] = []
    for start in range(0, count, 10_000):
        with engine.begin() as conn:
            made = (
                conn.execute(
                    insert(table_of(Profile)).returning(table_of(Profile).c.id),
                    [{"created_at": at, "updated_at": at, "merge_count": 0} for _ in range(min(10_000, count - start))],
                )
                .scalars()
                .all()
            )
            _customer(conn, [int(pid) for pid in made], rng)
            ids += [int(pid) for pid in made]
    engine.dispose()
    return ids


def _report(what: str, done: int, elapsed: float, cpu_used: float, latencies: list[float] | None = None) -> None:
    timing = f" (p50 {percentile(latencies, 50):.2f} ms, p99 {percentile(latencies, 99):.2f} ms)" if latencies else ""
    # Per CPU second too: on a shared machine the wall-clock rate measures the other tenants as much as the code.
    print(f"{what}: {done / elapsed:,.0f} decisions/s ({done / cpu_used:,.0f} per CPU second){timing}; load {load()}")


def service_runs(engine: Any, setup: Setup, people: list[int], seconds: float, batch: int) -> str:
    """Prints each in-process figure; returns the goal's line (`decide_many()` as a batch job runs it)."""
    situation = Situation("web")
    latencies: list[float] = []
    started, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        with unit_of_work(engine, write=False) as session:
            decide(session, people[len(latencies) % len(people)], situation, setup)
        latencies.append((time.perf_counter() - t0) * 1000)
    _report("decide() in a unit of work each", len(latencies), time.perf_counter() - started,
            time.process_time() - cpu, latencies)  # fmt: skip

    held = HeldReader(engine)
    latencies = []
    started, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        with held.snapshot() as reads:
            decide(reads, people[len(latencies) % len(people)], situation, setup, engine=engine)
        latencies.append((time.perf_counter() - t0) * 1000)
    held.close()
    _report("decide() on a held connection's snapshot (the API's way)", len(latencies),
            time.perf_counter() - started, time.process_time() - cpu, latencies)  # fmt: skip

    goal = ""
    for paused in (False, True):
        done, turn = 0, 0
        started, cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - started < seconds:
            chunk = [people[(turn * batch + n) % len(people)] for n in range(batch)]
            # A batch job holds the cyclic collector off while a batch is alive, as the worker does for its batches.
            with collector.paused() if paused else contextlib.nullcontext(), unit_of_work(engine, write=False) as s:
                done += len(decide_many(s, chunk, situation, setup))
            turn += 1
        what = f"decide_many() in batches of {batch}, reads included"
        if paused:
            what = f"{what}, collector held off per batch as the worker does"
        elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
        _report(what, done, elapsed, cpu_used)
        if paused:
            rate = done / elapsed
            goal = (
                f"GOAL in-process decisions >= 20,000/s: {rate:,.0f}/s ({done / cpu_used:,.0f} per CPU second), "
                f"{'MET' if rate >= 20_000 else 'not met'} ({what}; load {load()})"
            )
    return goal


def _post_loop(base: str, body: bytes, headers: dict[str, str], rate: float, seconds: float, conns: int) -> dict:  # type: ignore[type-arg]  # a JSON summary of mixed values
    """Open loop of POSTs at `rate` per second; latency counts from the scheduled time."""
    jobs: queue.Queue[float | None] = queue.Queue()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    host, port = base.rsplit(":", 1)

    def run() -> None:
        conn = http.client.HTTPConnection(host.removeprefix("http://"), int(port), timeout=30)
        while (scheduled := jobs.get()) is not None:
            try:
                conn.request("POST", "/v1/decisions", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host.removeprefix("http://"), int(port), timeout=30)
                status = 0
            done = time.perf_counter()
            with lock:
                if status == 200:
                    latencies.append((done - scheduled) * 1000)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=run) for _ in range(conns)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    for n in range(int(rate * seconds)):
        scheduled = started + n / rate
        if (delay := scheduled - time.perf_counter()) > 0:
            time.sleep(delay)
        jobs.put(scheduled)
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    return {"ok": len(latencies), "errors": errors[0], "seconds": time.perf_counter() - started, "latencies": latencies}


def http_runs(database_url: str, workdir: Path, profile_id: int, args: argparse.Namespace) -> list[str]:
    """Prints each rate's figures; returns the goal's lines (one per rate of 1,000/s or more)."""
    seconds = fill(database_url, profile_id, args.profiles)
    print(f"stored {args.profiles:,} profiles (an email and a consent choice each) in {seconds:.1f} s")
    engine = create_db_engine(database_url)
    with unit_of_work(engine) as session:
        _view, api_key = create_api_key(session, "bench", ["decisions"])
    engine.dispose()
    asked: dict[str, Any] = {"person": "email:target@example.com", "context": {"channel": "web"}}
    if args.explain:  # every action not chosen with its reason, as a caller asking `explain` gets it
        asked["explain"] = True
    body = orjson.dumps(asked)
    shape = "with every reason (explain)" if args.explain else "the default answer (chosen actions and reasons)"
    if args.bare_target:
        shape = f"{shape}, a target eligible for no action"
    goals: list[str] = []
    with serving(database_url, workdir, api_key, read_audit_fsync=False) as (pool, server, base, headers):
        headers = {**headers, "Content-Type": "application/json"}
        pool.apply(_post_loop, (base, body, headers, 100, 3.0, 8))  # warm up
        for rate in (int(r) for r in args.rates.split(",")):
            cpu = cpu_seconds(server.pid)
            run = pool.apply(_post_loop, (base, body, headers, rate, args.http_seconds, args.connections))
            per_answer = (cpu_seconds(server.pid) - cpu) / max(run["ok"], 1) * 1e6
            p99, achieved = percentile(run["latencies"], 99), run["ok"] / run["seconds"]
            figures = (
                f"p50 {percentile(run['latencies'], 50):.2f} ms, p99 {p99:.2f} ms ({run['ok']:,} ok, "
                f"{run['errors']} errors, achieved {achieved:,.0f}/s; server CPU {per_answer:,.0f} µs per answer; "
                f"load {load()})"
            )
            print(
                f"POST /v1/decisions, {args.profiles:,} profiles, {len(os.listdir(args.catalog))} actions, {shape}, "
                f"steady {rate}/s: {figures}"
            )
            if rate >= 1000:
                met = p99 < 10 and achieved >= 0.98 * rate and not run["errors"]
                goals.append(
                    f"GOAL POST /v1/decisions p99 < 10 ms at 1,000/s ({args.profiles:,} profiles, {shape}): "
                    f"{'MET' if met else 'not met'} at {rate}/s: {figures}"
                )
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument("--profiles", type=int, default=1_000_000, help="profiles stored for the HTTP runs")
    parser.add_argument("--rates", default="500,1000", help="comma-separated requests/s of the HTTP runs")
    parser.add_argument("--http-seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP runs (and storing --profiles)")
    parser.add_argument("--people", type=int, default=5000, help="customers stored for the in-process runs")
    parser.add_argument("--batch", type=int, default=500, help="people per decide_many() call")
    parser.add_argument("--explain", action="store_true", help="the HTTP runs ask for every reason (`explain`)")
    bare = "the HTTP runs' target without a customer's traits and holding (eligible for no action)"
    parser.add_argument("--bare-target", action="store_true", help=bare)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="seamline-decisions-bench-"))
    args.catalog = workdir / "actions"
    write_catalog(args.catalog, args.actions, random.Random(16))
    config = DecisionsConfig(catalog_dir=args.catalog)
    setup = Setup.build(config, ConsentConfig(), SurvivorshipConfig(), CasesConfig())
    print(f"machine: {os.cpu_count()} cores; load {load()}; {len(setup.catalog.actions)} actions")
    pure_runs(setup.catalog, config, args.seconds)

    database_url = args.database_url or f"sqlite:///{workdir / 'seamline.db'}"
    profile_id = seed(database_url, ConsentConfig(), 10, random.Random(5))
    if not args.bare_target:
        make_customer(database_url, profile_id)
    engine = create_db_engine(database_url)
    print(f"database: {engine.dialect.name}")
    people = store_people(database_url, args.people, random.Random(7))
    print(f"stored {len(people):,} customers with traits, a holding and consent for the in-process runs")
    # What lives as long as the process leaves the collector's sight, as `seamline serve` does after start-up.
    collector.freeze_start_up()
    goals = [service_runs(engine, setup, people, args.seconds, args.batch)]
    engine.dispose()
    if not args.no_http:
        os.environ["SEAMLINE_DECISIONS__CATALOG_DIR"] = str(args.catalog)  # the server loads the same catalog
        goals += http_runs(database_url, workdir, profile_id, args)
    for line in goals:  # the goals' figures, last
        print(line)


if __name__ == "__main__":
    main()
