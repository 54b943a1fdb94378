"""Several workers on PostgreSQL, racing on shared identifiers, must end with the graph one worker builds.

Each person's events come from different channels with different anonymous ids, so they land in different
inbox partitions and are processed by different workers at once; they share emails and phones, so the workers
race to create and merge the same profiles. Every interleaving must give exactly one profile per person.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import defaultdict

import pytest
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import create_db_engine, unit_of_work
from seamline.ingestion.inbox import InboxWriter
from seamline.ingestion.wire import Limits, parse_batch
from seamline.sources.service import create_source
from seamline.worker.runner import Worker
from tests.conftest import empty_database

PEOPLE = 40
INTERLEAVINGS = 6


def _person_events(n: int) -> list[dict[str, object]]:
    email, phone = f"person{n}@example.com", f"+1415555{n:04d}"
    return [
        {"type": "page", "anonymousId": f"web-{n}", "name": "Home", "messageId": f"m{n}-1"},
        {
            "type": "identify",
            "anonymousId": f"web-{n}",
            "userId": f"u-{n}",
            "traits": {"email": email},
            "messageId": f"m{n}-2",
        },
        {"type": "identify", "anonymousId": f"call-{n}", "traits": {"phone": phone}, "messageId": f"m{n}-3"},
        {
            "type": "identify",
            "anonymousId": f"crm-{n}",
            "traits": {"email": email.upper(), "phone": phone},
            "messageId": f"m{n}-4",
        },
        {"type": "screen", "anonymousId": f"app-{n}", "name": "Login", "messageId": f"m{n}-5"},
        {
            "type": "identify",
            "anonymousId": f"app-{n}",
            "traits": {"phone": f"(415) 555-{n:04d}"},
            "messageId": f"m{n}-6",
        },
    ]


def _ingest(engine: Engine, messages: list[dict[str, object]]) -> None:
    with unit_of_work(engine) as session:
        source, _key = create_source(session, "web", "web")
    writer = InboxWriter(engine)
    writer.start()
    try:
        for start in range(0, len(messages), 7):  # many small requests, as SDKs send them
            chunk = messages[start : start + 7]
            asyncio.run(writer.append(source.id, utcnow(), parse_batch({"batch": chunk}, utcnow(), Limits())))
    finally:
        writer.stop()


def _run_workers(engine: Engine, base: Settings, rng: random.Random, count: int) -> None:
    errors: list[BaseException] = []

    def work(worker: Worker) -> None:
        try:
            idle = 0
            while idle < 3:
                idle = idle + 1 if worker.run_once() == 0 else 0
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)

    workers = [
        Worker(
            engine,
            base.model_copy(
                update={"worker_batch_size": rng.randint(3, 40), "worker_partitions_per_claim": rng.randint(1, 6)}
            ),
        )
        for _ in range(count)
    ]
    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    Worker(engine, base).drain()  # anything a worker retried after a stale graph and then left


@pytest.mark.postgres_only
@pytest.mark.parametrize("seed", range(INTERLEAVINGS))
def test_racing_workers_build_one_profile_per_person(postgres_url: str, seed: int) -> None:
    rng = random.Random(seed)
    messages = [m for n in range(PEOPLE) for m in _person_events(n)]
    rng.shuffle(messages)
    engine = create_db_engine(postgres_url)
    empty_database(engine)
    try:
        _ingest(engine, messages)
        _run_workers(engine, Settings(database_url=postgres_url), rng, count=4)
        with engine.connect() as conn:
            pending = conn.execute(text("SELECT count(*) FROM inbox_events WHERE processed_at IS NULL")).scalar()
            assigned = conn.execute(text("SELECT count(*) FROM profile_events")).scalar()
            processed = conn.execute(text("SELECT sum(processed) FROM inbox_progress")).scalar()
            rows = conn.execute(
                text(
                    "SELECT e.message_id, pe.profile_id FROM profile_events pe "
                    "JOIN inbox_events e ON e.id = pe.event_id"
                )
            ).all()
            strong_shared = conn.execute(
                text(
                    "SELECT type, value FROM identifiers WHERE type NOT IN ('anonymous_id', 'device_id') "
                    "GROUP BY type, value HAVING count(*) > 1"
                )
            ).all()
            dead_holders = conn.execute(
                text(
                    "SELECT count(*) FROM identifiers i JOIN profiles p ON p.id = i.profile_id "
                    "WHERE p.merged_into_id IS NOT NULL"
                )
            ).scalar()
    finally:
        engine.dispose()

    assert pending == 0
    assert assigned == len(messages)
    assert processed == len(messages)  # no event processed twice
    assert strong_shared == []  # no duplicate profiles from races
    assert dead_holders == 0
    people: dict[int, set[str]] = defaultdict(set)
    for message_id, profile_id in rows:
        people[profile_id].add(message_id.split("-")[0])
    assert sorted(len(p) for p in people.values()) == [1] * PEOPLE  # no profile mixes people
    assert len(people) == PEOPLE  # and no person is split
