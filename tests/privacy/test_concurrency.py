"""Erasure racing a worker on PostgreSQL, with real threads: whatever the interleaving, nothing personal is left
behind and the person is not brought back.

A new event about the person can land in any inbox partition (a new device's anonymous id) and still resolve to
them through their email, so erasure holds every partition for its transaction: a batch in flight commits first
and is erased with the rest; a batch claimed later finds the tombstones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.ingestion.service import InboxItem
from seamline.privacy.service import erase_profile, open_request
from seamline.worker.runner import Worker
from tests.privacy.people import raw_mentions, world
from tests.support.flows import drain, send

pytestmark = [pytest.mark.postgres_only, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

NEW_DEVICE = {
    "type": "identify",
    "anonymousId": "ada-new-tablet",
    "traits": {"email": "ada.lovelace@example.com", "name": "Ada Tablet-Lovelace", "city": "Marylebone"},
}


class PausingWorker(Worker):
    """The real worker, stopping after it resolved a batch and before it commits, until told to go on."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__(engine, settings)
        self.resolved = threading.Event()
        self.go_on = threading.Event()

    def _resolve(self, session: Session, items: Sequence[InboxItem]) -> None:
        super()._resolve(session, items)
        self.resolved.set()
        self.go_on.wait(30)


def _erase(engine: Engine, profile_id: int) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        request = open_request(session, "erasure", profile_id, requested_by="dpo")
        return erase_profile(session, request.id).result


def _someone_waits_for_a_lock(engine: Engine) -> bool:
    """Whether another backend is blocked on a lock (polled for up to 10 s; the erasure is expected to be)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        if waiting:
            return True
        time.sleep(0.02)
    return False


def _leftovers(engine: Engine) -> tuple[int, int, list[tuple[str, str]]]:
    with engine.connect() as conn:
        holders = conn.execute(text("SELECT count(*) FROM identifiers WHERE value LIKE '%lovelace%'")).scalar_one()
        pending = conn.execute(text("SELECT count(*) FROM inbox_events WHERE processed_at IS NULL")).scalar_one()
    return int(holders), int(pending), raw_mentions(engine, ("lovelace", "ada-new-tablet", "marylebone"))


def test_an_erasure_waits_for_a_batch_in_flight_and_erases_what_it_wrote(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    people = world(client, engine, settings)
    send(client, people["web"], NEW_DEVICE)
    worker = PausingWorker(engine, settings)
    batch = threading.Thread(target=worker.run_once)
    batch.start()
    assert worker.resolved.wait(30)  # the tablet's event is resolved onto Ada's profile, not yet committed
    result: dict[str, Any] = {}
    erasure = threading.Thread(target=lambda: result.update(_erase(engine, people["ada"])))
    erasure.start()
    try:
        assert _someone_waits_for_a_lock(engine)  # the erasure waits for the batch
    finally:
        worker.go_on.set()
        batch.join(30)
        erasure.join(30)
    assert result["events_scrubbed"] == 7  # her six, and the tablet's
    assert _leftovers(engine) == (0, 0, [])


def test_a_worker_finds_nothing_to_claim_while_an_erasure_runs_then_finds_the_tombstones(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    people = world(client, engine, settings)
    send(client, people["web"], NEW_DEVICE)
    claimed: list[int] = []
    with unit_of_work(engine) as session:
        request = open_request(session, "erasure", people["ada"], requested_by="dpo")
        erase_profile(session, request.id)
        # Not committed yet: a worker in another thread must not resolve the tablet's event now.
        other = threading.Thread(target=lambda: claimed.append(Worker(engine, settings).run_once()))
        other.start()
        other.join(30)
    assert claimed == [0]
    assert drain(engine, settings) == 1  # after the commit: resolved as an erased person's event, and scrubbed
    assert _leftovers(engine) == (0, 0, [])


def test_erasure_during_a_stream_of_events_about_the_person_leaves_nothing(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    people = world(client, engine, settings)
    fast = settings.model_copy(update={"worker_idle_seconds": 0.005, "worker_batch_size": 5})
    workers = [Worker(engine, fast) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        for n in range(30):
            device = {**NEW_DEVICE, "anonymousId": f"ada-new-tablet-{n}"}
            send(client, people["web"], device, {"type": "track", "userId": "u-lovelace", "event": f"Tap {n}"})
            if n == 10:
                _erase(engine, people["ada"])
    finally:
        for worker in workers:
            worker.stop()
    drain(engine, settings)
    assert _leftovers(engine) == (0, 0, [])
