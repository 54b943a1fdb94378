"""The circuit of a target is shared by every dispatcher through the database: what one dispatcher found dead,
another spares without an attempt, and a half-open circuit lets one trial through across all of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.destinations.service import create_destination, publish
from seamline.outbox.breaker import Breakers
from seamline.outbox.circuits import load_circuits
from seamline.outbox.config import OutboxConfig
from seamline.worker.dispatcher import Dispatcher, build_dispatcher
from tests.support.webhooks import Receiver, webhook_receiver

DEAD_URL = "http://127.0.0.1:9/nothing-listens"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def tight(settings: Settings) -> Settings:
    outbox = OutboxConfig(breaker_failures=2, breaker_cooldown_seconds=30.0, retry_schedule_seconds=[3600.0] * 3,
                          send_threads=1, webhook_timeout_seconds=1.0)  # fmt: skip
    return settings.model_copy(update={"outbox": outbox})


def _queue(engine: Engine, settings: Settings, profile_id: int, count: int) -> None:
    with unit_of_work(engine) as session:
        for n in range(count):
            publish(session, "profile.erased", None, {"profile_ids": [profile_id], "n": n}, consent=settings.consent)


def _rows(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT attempts, COALESCE(last_error, '') FROM outbox_messages ORDER BY id"))
        return [(int(a), str(e)) for a, e in rows]


def _make_due(engine: Engine) -> None:
    """Let the cooldown pass, without waiting 30 seconds: the circuit and the waiting messages are due now."""
    past = utcnow() - timedelta(seconds=1)
    with unit_of_work(engine) as session:
        session.execute(text("UPDATE outbox_circuits SET open_until = :t"), {"t": past})
        session.execute(text("UPDATE outbox_messages SET next_attempt_at = :t WHERE status = 'pending'"), {"t": past})


def _round(dispatcher: Dispatcher) -> int:
    return dispatcher.run_once()


def test_a_target_one_dispatcher_found_dead_is_spared_by_another_until_one_trial_closes_it(
    engine: Engine, tight: Settings, receiver: Receiver
) -> None:
    profile = 42  # a deletion notice names profiles only: no consent asked, no person needed
    with unit_of_work(engine) as session:
        _view, receiver.secret = create_destination(
            session, "crm", DEAD_URL, purpose="analytics", subscriptions=["profile.erased"], consent=tight.consent
        )
    first = build_dispatcher(engine, tight, unsubscribe_url=None)
    second = build_dispatcher(engine, tight, unsubscribe_url=None)
    try:
        _queue(engine, tight, profile, 2)
        assert _round(first) == 2  # two real failures: the circuit opens, in the database
        with engine.connect() as conn:
            assert conn.execute(text("SELECT target, failures FROM outbox_circuits")).all() == [("destination:crm", 2)]

        _queue(engine, tight, profile, 3)
        assert _round(second) == 3  # a dispatcher that never failed there spares them all, no attempt made
        assert [a for a, _ in _rows(engine)] == [1, 1, 0, 0, 0]
        assert all("circuit open" in e for _, e in _rows(engine)[2:])

        # The cooldown passes; the receiver is back. One trial goes, from whichever dispatcher asks first.
        with unit_of_work(engine) as session:
            session.execute(text("UPDATE destinations SET url = :u"), {"u": receiver.url})
        _make_due(engine)
        assert _round(second) == 5  # its trial succeeded and closed the circuit: the rest went in the same round
        assert len(receiver.received) == 5
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM outbox_circuits")).scalar_one() == 0
    finally:
        first.stop()
        second.stop()


def test_a_half_open_circuit_grants_its_one_trial_to_one_dispatcher(engine: Engine, tight: Settings) -> None:
    profile = 42  # a deletion notice names profiles only: no consent asked, no person needed
    with unit_of_work(engine) as session:
        create_destination(session, "crm", DEAD_URL, purpose="analytics", subscriptions=["profile.erased"],
                           consent=tight.consent)  # fmt: skip
    dispatcher = build_dispatcher(engine, tight, unsubscribe_url=None)
    try:
        _queue(engine, tight, profile, 2)
        dispatcher.run_once()
    finally:
        dispatcher.stop()
    _make_due(engine)
    mine, theirs = Breakers(2, 30.0), Breakers(2, 30.0)
    now = utcnow()
    with unit_of_work(engine) as session:
        load_circuits(session, mine, ["destination:crm"], tight.outbox, now)
    with unit_of_work(engine) as session:
        load_circuits(session, theirs, ["destination:crm"], tight.outbox, now)
    moment = now.timestamp()
    assert mine.allows("destination:crm", moment) is True  # the trial
    assert mine.allows("destination:crm", moment) is False  # only one
    assert theirs.allows("destination:crm", moment) is False  # the other dispatcher waits for its result
    assert theirs.reopens_at("destination:crm") == pytest.approx(moment + 30.0, abs=1.0)
