"""One fatigue budget across dispatchers: two dispatchers on PostgreSQL never each pass one message over a cap. A
person's messages are checked, sent and settled by one dispatcher at a time (a session advisory lock on the
person), so the second counts the first's send before it decides."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.service import view
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.outbox.config import OutboxConfig
from seamline.outbox.service import Attempt, Entry
from seamline.worker.dispatcher import Dispatcher, build_dispatcher
from tests.communications.conftest import deliver, queue
from tests.decisions.test_policy import AWAKE, _grant_marketing
from tests.support.people import person
from tests.support.smtp import Mailbox

pytestmark = [pytest.mark.postgres_only, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]


def _one_at_a_time(settings: Settings) -> Settings:
    """Budget of 3 a week; each dispatcher round claims one message, so two dispatchers take different ones."""
    outbox = settings.outbox.model_copy(update={"batch_size": 1})
    return settings.model_copy(update={"decisions": AWAKE, "outbox": outbox})


class _Paused:
    """An email handler whose first send waits until released: the other dispatcher runs meanwhile."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.kind, self.is_concurrent = inner.kind, inner.is_concurrent
        self.sending, self.release = threading.Event(), threading.Event()

    def check(self, session: Any, entries: Any) -> Any:
        return self._inner.check(session, entries)

    def send(self, entry: Entry, plan: Any) -> Attempt:
        self.sending.set()
        self.release.wait(timeout=30)
        attempt: Attempt = self._inner.send(entry, plan)
        return attempt

    def record(self, session: Any, done: Any, statuses: Any) -> None:
        self._inner.record(session, done, statuses)

    def close(self) -> None:
        self._inner.close()


def _dispatcher(engine: Engine, settings: Settings) -> tuple[Dispatcher, _Paused]:
    built = build_dispatcher(engine, settings, unsubscribe_url=None)
    built.stop()
    email = _Paused(next(h for h in built._handlers.values() if h.kind == "email"))  # the test's seam
    config: OutboxConfig = settings.outbox
    return Dispatcher(engine, config, [email], lock_people=True), email


def test_a_second_dispatcher_waits_for_the_first_and_counts_its_send(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    settings = _one_at_a_time(mail_settings)
    ada = person(client, engine, settings)
    _grant_marketing(engine, settings, ada)
    for _ in range(2):
        queue(engine, settings, ada, "savings_offer", {"first_name": "Ada"})
    deliver(engine, settings)  # two of three spent
    third = queue(engine, settings, ada, "savings_offer", {"first_name": "Ada"})
    fourth = queue(engine, settings, ada, "savings_offer", {"first_name": "Ada"})
    first, paused = _dispatcher(engine, settings)
    second, unpaused = _dispatcher(engine, settings)
    unpaused.release.set()  # only the first dispatcher pauses
    failures: list[BaseException] = []

    def run(dispatcher: Dispatcher) -> None:
        try:
            dispatcher.run_once()
        except BaseException as exc:  # the assertion below shows it
            failures.append(exc)

    a = threading.Thread(target=run, args=(first,))
    a.start()
    assert paused.sending.wait(timeout=30)  # the first is sending the third message, not yet in the log as sent
    b = threading.Thread(target=run, args=(second,))
    b.start()
    time.sleep(0.5)  # the second has claimed the fourth and reached Ada's lock (without it, it would pass now)
    paused.release.set()
    a.join(60)
    b.join(60)
    first.stop()
    second.stop()

    assert failures == []
    with unit_of_work(engine, write=False) as session:
        assert view(session, third.communication_id).status == "accepted"
        suppressed = view(session, fourth.communication_id)
    assert suppressed.status == "suppressed"
    assert "fatigue budget spent: 3 of 3 messages in 7 days" in (suppressed.outcomes[-1].detail or "")
    assert len(smtp[0].messages) == 3


def test_two_dispatchers_draining_at_once_send_exactly_the_cap(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    settings = _one_at_a_time(mail_settings)
    ada = person(client, engine, settings)
    _grant_marketing(engine, settings, ada)
    queued = [queue(engine, settings, ada, "savings_offer", {"first_name": "Ada"}) for _ in range(8)]
    runners = [build_dispatcher(engine, settings, unsubscribe_url=None) for _ in range(2)]
    threads = [threading.Thread(target=r.drain) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for runner in runners:
        runner.stop()

    with unit_of_work(engine, write=False) as session:
        statuses = sorted(view(session, q.communication_id).status for q in queued)
    assert statuses == ["accepted"] * 3 + ["suppressed"] * 5
    assert len(smtp[0].messages) == 3
