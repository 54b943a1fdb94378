"""A synthetic event stream loaded into a fresh SQLite inbox, and the graph it resolves to, for tests that compare
two ways of resolving the same stream (a worker that remembers the graph or plans ahead, against a plain one)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.db import WRITE_INTENT, create_db_engine, unit_of_work
from seamline.ingestion import repository as inbox
from seamline.ingestion.wire import Limits, parse_batch
from seamline.sources.service import create_source
from seamline.synthetic.events import generate_events
from seamline.synthetic.people import generate_people

STREAM_EVENTS = 1500
STREAM_BATCH = 50  # events per worker batch: 30 batches


@pytest.fixture
def stream_database(sqlite_template: Path, tmp_path: Path) -> Iterator[Callable[[str], tuple[Engine, Settings]]]:
    """Makes a fresh SQLite database by name with the same stream waiting in its inbox (anonymous sessions, logins,
    cross-device, shared tablets, calls, CRM records, placeholders): its engine and a worker's settings."""
    people = generate_people(40, 11)
    stream = [
        (e.source, e.message) for e in generate_events(people, STREAM_EVENTS, 11, datetime(2026, 1, 1, tzinfo=UTC))
    ]
    engines: list[Engine] = []

    def make(name: str) -> tuple[Engine, Settings]:
        path = tmp_path / f"{name}.db"
        shutil.copyfile(sqlite_template, path)
        settings = Settings(database_url=f"sqlite:///{path}", data_dir=tmp_path, worker_batch_size=STREAM_BATCH)
        engine = create_db_engine(settings.database_url)
        engines.append(engine)
        _load(engine, stream)
        return engine, settings

    yield make
    for engine in engines:
        engine.dispose()


def _load(engine: Engine, messages: list[tuple[str, dict[str, Any]]]) -> None:
    with unit_of_work(engine) as session:
        sources = {name: create_source(session, name, "server")[0].id for name in sorted({s for s, _ in messages})}
    now, limits = datetime.now(UTC), Limits()
    with engine.execution_options(**{WRITE_INTENT: True}).begin() as conn:
        for source, message in messages:
            inbox.append_events(conn, [(sources[source], now, parse_batch({"batch": [message]}, now, limits))])


def resolved_graph(engine: Engine) -> dict[str, Any]:
    """The resolved graph, named by what does not depend on profile ids: the events of each profile, the
    identifiers of each, the merges and conflicts, and the events still waiting."""
    with engine.connect() as conn:
        events: dict[int, set[str]] = {}
        for message_id, pid in conn.execute(
            text("SELECT e.message_id, pe.profile_id FROM profile_events pe JOIN inbox_events e ON e.id = pe.event_id")
        ):
            events.setdefault(pid, set()).add(message_id)
        held: dict[int, set[str]] = {}
        for pid, type_, value in conn.execute(text("SELECT profile_id, type, value FROM identifiers")):
            held.setdefault(pid, set()).add(f"{type_}:{value}")
        merges = conn.execute(text("SELECT count(*) FROM merges")).scalar()
        conflicts = conn.execute(text("SELECT reason, count(*) FROM identity_conflicts GROUP BY reason")).all()
        waiting = conn.execute(text("SELECT count(*) FROM inbox_events WHERE processed_at IS NULL")).scalar()
        timeline = conn.execute(text("SELECT count(*) FROM profile_events")).scalar()
    return {
        "events": sorted(sorted(v) for v in events.values()),
        "identifiers": sorted(sorted(v) for v in held.values()),
        "merges": merges,
        "conflicts": sorted(tuple(c) for c in conflicts),
        "waiting": waiting,
        "timeline": timeline,
    }
