"""The outbox on both databases: enqueue in the caller's transaction, claims, settling, idempotency, dead letters."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine

from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, NotFound
from seamline.outbox.config import OutboxConfig
from seamline.outbox.service import (
    DEAD,
    DELIVERED,
    DISCARDED,
    PENDING,
    RETRY,
    SENT,
    Attempt,
    claim,
    counts,
    discard,
    enqueue,
    entries,
    entry,
    erase_person,
    replay,
    settle,
)

CONFIG = OutboxConfig(retry_schedule_seconds=[0.0], jitter=0.0, batch_size=10)


def test_a_message_enqueued_in_a_transaction_that_rolls_back_never_exists(engine: Engine) -> None:
    def change_that_fails() -> None:
        with unit_of_work(engine) as session:
            enqueue(session, "webhook", "crm", {"n": 1})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    with unit_of_work(engine) as session:
        assert claim(session, ["webhook"], CONFIG).entries == ()
        assert counts(session) == {}


def test_an_idempotency_key_makes_one_message_however_often_it_is_sent(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        first, created = enqueue(session, "webhook", "crm", {"n": 1}, idempotency_key="k1")
        assert created
    with unit_of_work(engine) as session:
        again, created = enqueue(session, "webhook", "crm", {"n": 1}, idempotency_key="k1")
        assert not created
        assert again.delivery_id == first.delivery_id
        with pytest.raises(Conflict):
            enqueue(session, "email", "smtp", {"n": 1}, idempotency_key="k1")
    with unit_of_work(engine) as session:
        assert counts(session) == {PENDING: 1}


def test_a_claim_holds_rows_from_other_dispatchers_until_its_lease_ends(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for n in range(3):
            enqueue(session, "webhook", "crm", {"n": n})
    with unit_of_work(engine) as session:
        mine = claim(session, ["webhook"], CONFIG)
    with unit_of_work(engine) as session:
        assert claim(session, ["webhook"], CONFIG).entries == ()
        assert claim(session, ["email"], CONFIG).entries == ()
    later = max(e.next_attempt_at for e in mine.entries) + (mine.until - mine.entries[0].created_at)
    with unit_of_work(engine) as session:
        taken_over = claim(session, ["webhook"], CONFIG, now=later)  # the first dispatcher died: its lease lapsed
    assert [e.id for e in taken_over.entries] == [e.id for e in mine.entries]
    with unit_of_work(engine) as session:
        # The first dispatcher's late settling changes nothing: the rows are the second one's now.
        settle(session, mine, [Attempt(e.id, DELIVERED) for e in mine.entries], CONFIG, random.Random())
        assert counts(session) == {PENDING: 3}
        settle(session, taken_over, [Attempt(e.id, DELIVERED) for e in taken_over.entries], CONFIG, random.Random())
        assert counts(session) == {SENT: 3}


def test_retries_end_in_dead_letters_that_can_be_replayed_or_discarded(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        a, _ = enqueue(session, "webhook", "crm", {"n": 1})
        b, _ = enqueue(session, "webhook", "crm", {"n": 2})
    for _ in range(2):  # the first attempt, then the schedule's one retry
        with unit_of_work(engine) as session:
            held = claim(session, ["webhook"], CONFIG)
            assert len(held.entries) == 2
            settle(session, held, [Attempt(e.id, RETRY, "HTTP 500") for e in held.entries], CONFIG, random.Random())
    with unit_of_work(engine) as session:
        dead = entries(session, DEAD)
        assert {d.id for d in dead} == {a.id, b.id}
        assert all(d.attempts == 2 and d.last_error == "HTTP 500" for d in dead)
        replay(session, [a.id])
        discard(session, [b.id])
        with pytest.raises(NotFound):
            replay(session, [b.id])  # no longer a dead letter
    with unit_of_work(engine) as session:
        assert entry(session, a.id).status == PENDING
        assert entry(session, a.id).attempts == 0
        assert entry(session, b.id).status == DISCARDED
        assert [e.id for e in claim(session, ["webhook"], CONFIG).entries] == [a.id]


def test_erasure_deletes_the_messages_of_a_person(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        enqueue(session, "email", "smtp", {"subject": "Ada's statement"}, profile_id=7)
        keep, _ = enqueue(session, "email", "smtp", {"subject": "Bob's"}, profile_id=8)
    with unit_of_work(engine) as session:
        assert erase_person(session, [7]) == 1
    with unit_of_work(engine) as session:
        assert [e.id for e in claim(session, ["email"], CONFIG).entries] == [keep.id]


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_dispatchers_on_postgresql_skip_rows_another_is_claiming_instead_of_waiting(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for n in range(4):
            enqueue(session, "webhook", "crm", {"n": n})
    small = CONFIG.model_copy(update={"batch_size": 2})
    with unit_of_work(engine) as first:
        held = claim(first, ["webhook"], small)  # its transaction is still open: the rows are locked
        with unit_of_work(engine) as second:
            other = claim(second, ["webhook"], small)
    assert len(held.entries) == len(other.entries) == 2
    assert not {e.id for e in held.entries} & {e.id for e in other.entries}
