"""Destinations: signed webhooks to a loopback receiver that verifies them with the Standard Webhooks library;
consent to the destination's purpose, retries, dead letters, the circuit breaker, pause and replay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.consent.service import record_choice
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput
from seamline.destinations.consumer import ResolvedEvent, publish_events
from seamline.destinations.service import create_destination, publish, replay_since, set_paused
from seamline.identity.service import merge_history
from seamline.outbox.config import OutboxConfig
from seamline.outbox.service import DEAD, entries, replay
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.replay import rebuild, unmerge
from seamline.privacy.service import erase_profile, open_request
from seamline.worker.dispatcher import build_dispatcher
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send
from tests.support.people import person
from tests.support.webhooks import Receiver, webhook_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    outbox = OutboxConfig(retry_schedule_seconds=[0.0, 0.0], jitter=0.0, webhook_timeout_seconds=0.5)
    return settings.model_copy(update={"outbox": outbox})


def _destination(engine: Engine, settings: Settings, receiver: Receiver, name: str = "crm", **options: object) -> None:
    with unit_of_work(engine) as session:
        _view, secret = create_destination(
            session,
            name,
            str(options.get("url", receiver.url)),
            purpose=str(options.get("purpose", "analytics")),
            subscriptions=["profile.trait_changed", "profile.erased"],
            consent=settings.consent,
        )
    receiver.secret = secret


def _publish(engine: Engine, settings: Settings, profile_id: int, **data: object) -> int:
    with unit_of_work(engine) as session:
        return publish(session, "profile.trait_changed", profile_id, data, consent=settings.consent)


def _deliver(engine: Engine, settings: Settings) -> int:
    runner = build_dispatcher(engine, settings, unsubscribe_url=None)
    try:
        return runner.drain()
    finally:
        runner.stop()


def test_a_change_reaches_the_receiver_signed_per_standard_webhooks(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    _destination(engine, hook_settings, receiver)
    assert _publish(engine, hook_settings, ada, trait="first_name") == 1
    assert receiver.received == []  # it leaves after the commit, through a dispatcher
    _deliver(engine, hook_settings)
    assert receiver.forged == 0
    [body] = receiver.received
    assert body["type"] == "profile.trait_changed"
    assert body["data"] == {"profile_id": ada, "trait": "first_name"}
    with engine.connect() as conn:
        delivery_id = conn.execute(text("SELECT delivery_id FROM outbox_messages")).scalar()
    assert receiver.ids == [delivery_id]


def test_a_wrong_secret_fails_verification_at_the_receiver(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    _destination(engine, hook_settings, receiver)
    receiver.secret = "whsec_" + "QUJD" * 8  # not the destination's: every delivery must be refused as forged
    _publish(engine, hook_settings, ada)
    _deliver(engine, hook_settings)
    assert receiver.received == []
    assert receiver.forged == 3  # the first attempt and two retries, each answered 401


def test_people_who_did_not_consent_to_the_destinations_purpose_are_not_sent_even_if_they_withdraw_later(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    bob = person(client, engine, hook_settings, user_id="u-bob", email="bob@example.com")
    _destination(engine, hook_settings, receiver, purpose="marketing")  # marketing is opt-in by default
    with unit_of_work(engine) as session:
        for who in (ada, bob):
            record_choice(session, who, kind="consent", purpose="marketing", value="granted", actor="t",
                          surface="api", config=hook_settings.consent)  # fmt: skip
    assert _publish(engine, hook_settings, ada) == 1
    assert _publish(engine, hook_settings, bob) == 1
    with unit_of_work(engine) as session:  # Bob withdraws before the dispatcher runs
        record_choice(session, bob, kind="consent", purpose="marketing", value="denied", actor="t",
                      surface="api", config=hook_settings.consent)  # fmt: skip
    carl = person(client, engine, hook_settings, user_id="u-carl", email="carl@example.com")
    assert _publish(engine, hook_settings, carl) == 0  # never consented: not even queued
    _deliver(engine, hook_settings)
    assert [b["data"]["profile_id"] for b in receiver.received] == [ada]
    with engine.connect() as conn:
        statuses = sorted(r[0] for r in conn.execute(text("SELECT status FROM outbox_messages")))
    assert statuses == ["sent", "suppressed"]


def test_a_failing_receiver_means_retries_then_a_dead_letter_replayed_with_the_same_webhook_id(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    _destination(engine, hook_settings, receiver)
    _publish(engine, hook_settings, ada)
    receiver.status = 500
    _deliver(engine, hook_settings)
    with unit_of_work(engine) as session:
        [dead] = entries(session, DEAD)
        assert dead.last_error == "HTTP 500"
        assert dead.attempts == 3
        replay(session, [dead.id])
    receiver.status = 200
    _deliver(engine, hook_settings)
    assert receiver.ids == [dead.delivery_id]


def test_a_hanging_receiver_times_out_and_is_retried_without_holding_up_the_dispatcher(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    _destination(engine, hook_settings, receiver)
    _publish(engine, hook_settings, ada)
    receiver.hang_seconds = 2.0
    _deliver(engine, hook_settings)
    with unit_of_work(engine) as session:
        [dead] = entries(session, DEAD)
    assert "timed out" in (dead.last_error or "").lower()


def test_the_circuit_of_a_dead_destination_opens_and_the_healthy_one_is_served(
    client: TestClient, engine: Engine, settings: Settings, receiver: Receiver
) -> None:
    tight = settings.model_copy(
        update={"outbox": OutboxConfig(breaker_failures=2, retry_schedule_seconds=[3600.0], send_threads=1)}
    )
    ada = person(client, engine, tight)
    _destination(engine, tight, receiver, name="dead", url="http://127.0.0.1:9/nothing-listens")
    _destination(engine, tight, receiver, name="crm")
    for n in range(5):
        _publish(engine, tight, ada, n=n)
    _deliver(engine, tight)
    assert len(receiver.received) == 5
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT attempts, last_error FROM outbox_messages WHERE target = 'destination:dead' ORDER BY id")
        ).all()
    assert [r[0] for r in rows] == [1, 1, 0, 0, 0]  # two real failures, then the open circuit spared the rest
    assert all("circuit open" in (r[1] or "") for r in rows[2:])


def test_a_paused_destination_keeps_its_deliveries_until_resumed_and_replays_from_a_time(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    _destination(engine, hook_settings, receiver)
    with unit_of_work(engine) as session:
        set_paused(session, "crm", is_paused=True)
    since = utcnow() - timedelta(seconds=1)
    _publish(engine, hook_settings, ada, n=1)
    _deliver(engine, hook_settings)
    assert receiver.received == []
    with unit_of_work(engine) as session:
        set_paused(session, "crm", is_paused=False)
    _deliver(engine, hook_settings)
    assert [b["data"]["n"] for b in receiver.received] == [1]
    with unit_of_work(engine) as session:
        assert replay_since(session, "crm", since) == 1
    _deliver(engine, hook_settings)
    assert [b["data"]["n"] for b in receiver.received] == [1, 1]
    assert len(set(receiver.ids)) == 2  # a replay is a new delivery


def test_an_erasure_sends_a_deletion_notice_with_no_personal_data(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    _destination(engine, hook_settings, receiver)
    _publish(engine, hook_settings, ada, email="ada@example.com")
    with unit_of_work(engine) as session:
        request = open_request(session, "erasure", ada, requested_by="dpo")
        result = erase_profile(session, request.id).result
    assert result["destinations_notified"] == 1
    _deliver(engine, hook_settings)
    [notice] = receiver.received  # the waiting change about Ada was erased with her
    assert notice["type"] == "profile.erased"
    assert notice["data"] == {"profile_id": None, "profile_ids": [ada]}


def test_a_destination_must_name_a_known_purpose_and_real_subscriptions(engine: Engine, settings: Settings) -> None:
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as caught:
        create_destination(session, "x", "ftp://nowhere", purpose="spying", subscriptions=["everything"],
                           consent=settings.consent)  # fmt: skip
    assert sorted(e.field for e in caught.value.errors) == ["purpose", "subscriptions", "url"]


def test_tracked_events_reach_the_destinations_subscribed_to_them(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    with unit_of_work(engine) as session:
        _view, receiver.secret = create_destination(
            session, "shop", receiver.url, purpose="analytics", subscriptions=["event.Order Completed"],
            consent=hook_settings.consent,
        )  # fmt: skip
        events = [
            ResolvedEvent(1, ada, {"type": "track", "event": "Order Completed", "properties": {"total": 12},
                                   "context": {"ip": "203.0.113.9"}}, utcnow()),
            ResolvedEvent(2, ada, {"type": "track", "event": "Page Viewed"}, utcnow()),
            ResolvedEvent(3, ada, {"type": "identify", "traits": {}}, utcnow()),
        ]  # fmt: skip
        assert publish_events(session, events, consent=hook_settings.consent) == 1
    _deliver(engine, hook_settings)
    [body] = receiver.received
    assert body["type"] == "event.Order Completed"
    assert body["data"]["properties"] == {"total": 12}
    assert "context" not in body["data"]  # the IP address stays in Seamline


def _outbox_size(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM outbox_messages")).scalar_one())


def test_the_worker_sends_tracked_events_to_subscribers_once_and_a_rebuild_announces_nothing(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    person(client, engine, hook_settings)
    with unit_of_work(engine) as session:
        _view, receiver.secret = create_destination(
            session, "shop", receiver.url, purpose="analytics", subscriptions=["event.Order Completed"],
            consent=hook_settings.consent,
        )  # fmt: skip
    _, key = make_source(engine, "shop-web", "web")
    send(
        client,
        key,
        {"type": "track", "userId": "u-ada", "event": "Order Completed", "properties": {"total": 30}},
        {"type": "track", "userId": "u-ada", "event": "Page Viewed", "properties": {}},
    )
    drain(engine, hook_settings)  # the real worker: the pipeline's destinations consumer queues the webhook
    assert _outbox_size(engine) == 1
    _deliver(engine, hook_settings)
    [body] = receiver.received
    assert (body["type"], body["data"]["properties"]) == ("event.Order Completed", {"total": 30})
    with unit_of_work(engine) as session:  # a replay re-derives the graph from every event: it announces nothing
        rebuild(session, Pipeline(hook_settings.identity, hook_settings.consent))
    assert _outbox_size(engine) == 1


def test_the_worker_publishes_trait_changes_in_canonical_names_a_merge_and_its_undoing(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    with unit_of_work(engine) as session:
        _view, receiver.secret = create_destination(
            session, "crm", receiver.url, purpose="analytics",
            subscriptions=["profile.trait_changed", "profile.identifier_added", "profile.merged", "profile.unmerged"],
            consent=hook_settings.consent,
        )  # fmt: skip
    _, key = make_source(engine, "web", "web")
    send(
        client,
        key,
        {"type": "identify", "anonymousId": "ada-laptop", "userId": "u-ada", "traits": {"firstName": "Ada"}},
        {"type": "identify", "anonymousId": "bob-phone", "traits": {"name": "Bob Builder", "city": "Leeds"}},
    )
    drain(engine, hook_settings)
    ada, bob = profile_holding(engine, "user_id:u-ada"), profile_holding(engine, "anonymous_id:bob-phone")
    send(client, key, {"type": "track", "anonymousId": "bob-phone", "userId": "u-ada", "event": "Signed In"})
    drain(engine, hook_settings)  # a wrong stitch: Bob's phone joins Ada
    _deliver(engine, hook_settings)
    by_type: dict[str, list[dict[str, object]]] = {}
    for body in receiver.received:
        by_type.setdefault(str(body["type"]), []).append(body["data"])
    traits = {d["profile_id"]: d["traits"] for d in by_type["profile.trait_changed"]}
    assert traits[ada] == {"first_name": "Ada"}  # the canonical model's name, not the source's `firstName`
    assert traits[bob] == {"name": "Bob Builder", "address": {"city": "Leeds"}}
    [merged] = by_type["profile.merged"]
    assert (merged["profile_id"], merged["absorbed_profile_id"]) == (ada, bob)
    # Each identifier once, on the profile it ended in: Bob's phone was first linked to him, then moved with him.
    linked = sorted((d["profile_id"], d["identifier"]["type"], d["identifier"]["value"])
                    for d in by_type["profile.identifier_added"])  # fmt: skip
    assert linked == [
        (ada, "anonymous_id", "ada-laptop"), (ada, "user_id", "u-ada"), (bob, "anonymous_id", "bob-phone")
    ]  # fmt: skip

    with unit_of_work(engine) as session:
        [merge] = [m for m in merge_history(session, ada) if m.merged_profile_id == bob]
        unmerge(session, merge.id, Pipeline(hook_settings.identity, hook_settings.consent), actor="t", reason="wrong")
    receiver.received.clear()
    _deliver(engine, hook_settings)
    undone = [b["data"] for b in receiver.received if b["type"] == "profile.unmerged"]
    assert sorted(d["profile_id"] for d in undone) == sorted(undone[0]["profile_ids"]) == sorted([ada, bob])
    assert {b["type"] for b in receiver.received} == {"profile.unmerged"}  # the replay announced nothing else
