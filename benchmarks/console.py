"""Console benchmark: server time of the customer page and of a misspelt-name search, with many profiles stored.

Prints figures; asserts nothing. Rows are written straight into the tables (in bulk, the shapes the worker writes)
because resolving millions of events through the worker would take the shared machine most of an hour; one profile
gets `--events` timeline events with their inbox payloads. Then, in-process through the ASGI app with a signed-in
agent (no network), it times GET /console/customers/{id} (the first timeline page of 50, golden record, holdings,
preferences, merges; audit included) and GET /console/find?q=<misspelt name>.

    python benchmarks/console.py [--profiles 200000] [--events 10000] [--requests 300] [--database-url URL]
                                 [--matcher] [--search-only]

--matcher installs a matching model (trained on 1,500 synthetic people's silo records, as the tests do) before the
app starts, so the name search goes through the real-time matcher; the first search builds its index, timed apart.
--search-only skips the customer page figures.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, text

from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import create_db_engine, table_of, unit_of_work
from seamline.core.migrations import upgrade
from seamline.core.principal import Principal
from seamline.identity.models import IdentifierLink, Profile
from seamline.ingestion.models import InboxEvent
from seamline.matching.model import TrainedModel, records_frame, save_model, train_settings
from seamline.matching.prepare import prepare
from seamline.profiles.facts import encode_value
from seamline.profiles.models import ProfileEvent, TraitValue
from seamline.sources.service import create_source
from seamline.synthetic.names import FIRST_NAMES, LAST_NAMES
from seamline.synthetic.people import generate_people
from seamline.synthetic.silos import generate_silo_records
from seamline.users.config import ConsoleConfig
from seamline.users.service import create_user

PASSWORD = "benchmark password"  # noqa: S105 - a throwaway user of a throwaway database
CHUNK = 20_000


def _trait(pid: int, name: str, value: str, source_id: int, at: datetime, event_id: int) -> dict[str, object]:
    value_json, value_hash = encode_value(value)
    return {
        "profile_id": pid,
        "name": name,
        "value_json": value_json,
        "value_hash": value_hash,
        "source_id": source_id,
        "first_event_id": event_id,
        "last_event_id": event_id,
        "first_seen_at": at,
        "last_seen_at": at,
        "times_seen": 1,
    }


def populate(engine: Engine, profiles: int, events: int, rng: random.Random) -> tuple[int, str]:
    """Store `profiles` people (name traits, email, one event each) and give the first one `events` events."""
    with unit_of_work(engine) as session:
        source, _key = create_source(session, "crm", "crm")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    event_id = 0
    for base in range(0, profiles, CHUNK):
        ids = range(base + 1, min(base + CHUNK, profiles) + 1)
        people = [(pid, rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) for pid in ids]
        rows_profiles, rows_links, rows_traits, rows_inbox, rows_events = [], [], [], [], []
        for pid, first, last in people:
            at = start + timedelta(seconds=pid)
            event_id += 1
            email = f"{first}.{last}.{pid}@example.com".lower()
            message = {
                "type": "identify",
                "userId": f"u-{pid}",
                "traits": {"firstName": first, "lastName": last, "email": email},
                "messageId": f"m-{event_id}",
                "timestamp": at.isoformat(),
            }
            rows_profiles.append(
                {"id": pid, "created_at": at, "updated_at": at, "created_by_event_id": event_id, "merge_count": 0}
            )
            for kind, value in (("user_id", f"u-{pid}"), ("email", email)):
                rows_links.append(
                    {
                        "profile_id": pid,
                        "type": kind,
                        "value": value,
                        "source_id": source.id,
                        "first_event_id": event_id,
                        "first_seen_at": at,
                        "last_seen_at": at,
                    }
                )
            rows_traits += [
                _trait(pid, "firstName", first, source.id, at, event_id),
                _trait(pid, "lastName", last, source.id, at, event_id),
                _trait(pid, "email", email, source.id, at, event_id),
            ]
            rows_inbox.append(
                {
                    "id": event_id,
                    "source_id": source.id,
                    "message_id": f"m-{event_id}",
                    "type": "identify",
                    "user_id": f"u-{pid}",
                    "anonymous_id": None,
                    "partition": pid % 64,
                    "received_at": at,
                    "payload": orjson.dumps(message).decode(),
                    "processed_at": at,
                }
            )
            rows_events.append(
                {
                    "event_id": event_id,
                    "profile_id": pid,
                    "source_id": source.id,
                    "type": "identify",
                    "name": None,
                    "channel": "server",
                    "occurred_at": at,
                }
            )
        with engine.begin() as conn:
            for model, rows in (
                (Profile, rows_profiles),
                (InboxEvent, rows_inbox),
                (IdentifierLink, rows_links),
                (TraitValue, rows_traits),
                (ProfileEvent, rows_events),
            ):
                conn.execute(insert(table_of(model)), rows)
        print(f"  stored {min(base + CHUNK, profiles):,} profiles", flush=True)
    busy = 1
    rows_inbox, rows_events = [], []
    for n in range(events):
        event_id += 1
        at = start + timedelta(minutes=n)
        channel = ("web", "mobile", "call-center", "email")[n % 4]
        message = {
            "type": "track",
            "userId": "u-1",
            "event": f"Event {n % 40}",
            "messageId": f"m-{event_id}",
            "properties": {"n": n, "page": f"/p/{n % 97}"},
            "context": {"channel": channel},
            "timestamp": at.isoformat(),
        }
        rows_inbox.append(
            {
                "id": event_id,
                "source_id": source.id,
                "message_id": f"m-{event_id}",
                "type": "track",
                "user_id": "u-1",
                "anonymous_id": None,
                "partition": 1,
                "received_at": at,
                "payload": orjson.dumps(message).decode(),
                "processed_at": at,
            }
        )
        rows_events.append(
            {
                "event_id": event_id,
                "profile_id": busy,
                "source_id": source.id,
                "type": "track",
                "name": f"Event {n % 40}",
                "channel": channel,
                "occurred_at": at,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(table_of(InboxEvent)), rows_inbox)
        conn.execute(insert(table_of(ProfileEvent)), rows_events)
        if engine.dialect.name == "postgresql":
            for table, column in (("profiles", "id"), ("inbox_events", "id")):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), {event_id})")
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
    first, last = people_name(engine, busy)
    return busy, f"{first} {last}"


def people_name(engine: Engine, pid: int) -> tuple[str, str]:
    query = text(
        "SELECT name, value_json FROM profile_traits WHERE profile_id = :p AND name IN ('firstName', 'lastName')"
    )
    with engine.connect() as conn:
        rows = {name: value for name, value in conn.execute(query, {"p": pid}).all()}
    return orjson.loads(rows["firstName"]), orjson.loads(rows["lastName"])


def misspell(name: str, rng: random.Random) -> str:
    """One typo in the middle of the last name (its first and last three letters stay right)."""
    first, last = name.split(" ", 1)
    if len(last) < 5:
        return f"{first} {last}"
    i = rng.randrange(2, len(last) - 2)
    return f"{first} {last[:i]}{last[i + 1]}{last[i]}{last[i + 2 :]}"


def install_model(model_dir: Path) -> None:
    """A model trained on synthetic silo records (the real-time matcher needs one; training on these profiles,
    which hold only names and an email, would find no blocks to learn from)."""
    records = generate_silo_records(generate_people(1_500, seed=31), seed=32)
    prepared = [{"unique_id": f"{r.system}:{r.record_key}", **prepare(r.fields())} for r in records]
    settings = train_settings(records_frame(prepared), u_max_pairs=5e5)
    save_model(model_dir, TrainedModel(settings, 1, datetime.now(UTC), len(prepared), 0))


def timed(client: TestClient, url: str, requests: int) -> list[float]:
    out = []
    for _ in range(requests):
        t = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.text[:300]
    return out


def report(label: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"{label}: n={len(ms)} p50={statistics.median(ms):.1f} ms p99={p99:.1f} ms max={ms[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--matcher", action="store_true", help="name search through the real-time matcher")
    parser.add_argument("--search-only", action="store_true", help="skip the customer page figures")
    args = parser.parse_args()
    rng = random.Random(7)
    folder = Path(tempfile.mkdtemp(prefix="seamline-console-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'seamline.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    t = time.perf_counter()
    busy, name = populate(engine, args.profiles, args.events, rng)
    print(f"populated {args.profiles:,} profiles and {args.events:,} events on one in {time.perf_counter() - t:.0f} s")
    with unit_of_work(engine) as session:
        create_user(
            session,
            "bench",
            "agent",
            PASSWORD,
            actor=Principal("bench", "operator", frozenset(), "cli"),
            config=ConsoleConfig(),
        )
    engine.dispose()
    settings = Settings(database_url=url, data_dir=folder)
    if args.matcher:
        t = time.perf_counter()
        install_model(folder / "models")
        print(f"trained a matching model in {time.perf_counter() - t:.0f} s")
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        form = client.get("/console/login").text
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        client.post("/console/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
        if not args.search_only:
            timed(client, f"/console/customers/{busy}", 20)  # warm up
            report(f"customer page, {args.events:,} events", timed(client, f"/console/customers/{busy}", args.requests))
            report(
                "customer page, a typical profile",
                timed(client, f"/console/customers/{args.profiles // 2}", args.requests),
            )
        queries = [misspell(name, rng)] + [
            misspell(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", rng) for _ in range(20)
        ]
        t = time.perf_counter()
        found = client.get("/console/find", params={"q": queries[0]})
        print(f"first search (builds the matcher's index when there is a model): {time.perf_counter() - t:.1f} s")
        print("found by the matcher" if "name: " in found.text else "found by the plain search")
        print(f"find {queries[0]!r} → profile {busy} listed: {f'/console/customers/{busy}' in found.text}")
        search_ms: list[float] = []
        for q in queries * max(1, args.requests // len(queries)):
            t = time.perf_counter()
            client.get("/console/find", params={"q": q})
            search_ms.append((time.perf_counter() - t) * 1000)
        report("find by a misspelt name", search_ms)


if __name__ == "__main__":
    main()
