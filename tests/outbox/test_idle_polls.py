"""An idle dispatcher's poll (a prepared read on a connection the loop keeps) finds exactly what a claim would, and
a running dispatcher delivers a message enqueued while it idles — on both databases."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.held import HeldReader
from seamline.core.prepared import read_snapshot
from seamline.outbox.config import OutboxConfig
from seamline.outbox.service import DELIVERED, Attempt, Entry, claim, counts, enqueue, is_any_due
from seamline.worker.dispatcher import Dispatcher

CONFIG = OutboxConfig(batch_size=10, idle_seconds=0.05)


def _due(engine: Engine, kinds: list[str]) -> tuple[bool, bool]:
    """The poll's answer on a held connection and on a pooled one."""
    held = HeldReader(engine)
    try:
        with held.snapshot() as reads:
            on_held = is_any_due(reads, kinds)
    finally:
        held.close()
    with read_snapshot(engine) as reads:
        return on_held, is_any_due(reads, kinds)


def test_the_poll_sees_what_a_claim_would_take_and_nothing_else(engine: Engine) -> None:
    assert _due(engine, ["webhook", "email"]) == (False, False)
    with unit_of_work(engine) as session:
        enqueue(session, "webhook", "crm", {"n": 1}, not_before=utcnow() + timedelta(hours=1))  # not yet due
        enqueue(session, "email", "smtp", {"n": 2})
    assert _due(engine, ["webhook"]) == (False, False)
    assert _due(engine, ["webhook", "email"]) == (True, True)
    assert _due(engine, ["paper", "email", "push", "sms", "in_app", "notice", "report", "webhook"]) == (True, True)
    with unit_of_work(engine) as session:
        taken = claim(session, ["email"], CONFIG)  # leased: another dispatcher holds it
    assert len(taken.entries) == 1
    assert _due(engine, ["webhook", "email"]) == (False, False)


class _Recorder:
    """A handler that delivers everything and says so."""

    kind = "webhook"
    is_concurrent = False

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.delivered = threading.Event()

    def check(self, session: Session, entries: Sequence[Entry]) -> Mapping[int, Attempt | Any]:
        return {entry.id: None for entry in entries}

    def send(self, entry: Entry, plan: Any) -> Attempt:
        self.sent.append(entry.id)
        self.delivered.set()
        return Attempt(entry.id, DELIVERED)

    def record(self, session: Session, done: Sequence[tuple[Entry, Attempt]], statuses: Mapping[int, str]) -> None:
        return None

    def close(self) -> None:
        return None


def test_a_running_dispatcher_delivers_what_is_enqueued_while_it_idles(engine: Engine) -> None:
    handler = _Recorder()
    dispatcher = Dispatcher(engine, CONFIG, [handler])
    dispatcher.start()
    try:
        assert not handler.delivered.wait(0.2)  # polls that find nothing
        with unit_of_work(engine) as session:
            message, _created = enqueue(session, "webhook", "crm", {"n": 1})
        assert handler.delivered.wait(30)
    finally:
        dispatcher.stop()
    assert handler.sent == [message.id]
    with unit_of_work(engine) as session:
        assert counts(session) == {"sent": 1}
