"""The one contact policy, end to end on both databases: a card holder gets no card offer from the decision API,
no card campaign email and is not in an exported audience; one fatigue budget counts other platforms' reports;
quiet hours hold marketing until morning and let a fraud alert through."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.communications.delivery import ContactPolicy, EmailHandler
from seamline.communications.service import view
from seamline.config import Settings
from seamline.consent.service import record_choice
from seamline.core.db import unit_of_work
from seamline.decisions.config import Cap, DecisionsConfig
from seamline.destinations.service import create_destination
from seamline.worker.dispatcher import Dispatcher
from tests.communications.conftest import deliver, queue
from tests.support.builders import make_source
from tests.support.flows import drain, send
from tests.support.people import person
from tests.support.smtp import Mailbox

AWAKE = DecisionsConfig(caps=[Cap(window_days=7, limit=3)])  # no quiet hours: the tests run at any hour


def _key(engine: Engine, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, f"key-{uuid.uuid4().hex[:8]}", list(scopes))
    return {"Authorization": f"Bearer {key}"}


def _grant_marketing(engine: Engine, settings: Settings, profile_id: int) -> None:
    with unit_of_work(engine) as session:
        record_choice(
            session, profile_id, kind="consent", purpose="marketing", channel=None, value="granted", actor="test",
            surface="api", config=settings.consent,
        )  # fmt: skip


def _track(client: TestClient, engine: Engine, settings: Settings, user_id: str, *events: tuple[str, dict]) -> None:  # type: ignore[type-arg]  # events' properties are free-form JSON
    _, key = make_source(engine, f"system-{uuid.uuid4().hex[:8]}", "web")
    send(client, key, *[{"type": "track", "userId": user_id, "event": e, "properties": p} for e, p in events])
    drain(engine, settings)


def test_a_card_holder_is_not_marketed_a_card_anywhere(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    settings = mail_settings.model_copy(update={"decisions": AWAKE})
    ada = person(client, engine, settings)
    _grant_marketing(engine, settings, ada)
    _track(client, engine, settings, "u-ada", ("Card Issued", {"card_id": "C-77"}))
    headers = _key(engine, "decisions")

    answer = client.post(
        "/v1/decisions",
        json={"person": "email:ada@example.com", "context": {"channel": "email"}, "explain": True},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "card_offer" not in [a["action"] for a in body["actions"]]
    [stopped] = [n for n in body["not_chosen"] if n["action"] == "card_offer"]
    assert (stopped["stage"], stopped["rule"]) == ("suitability", "holds_product")
    assert "holds the product credit_card" in stopped["reason"]

    campaign = queue(engine, settings, ada, "savings_offer", {"first_name": "Ada"}, product="credit_card")
    deliver(engine, settings)
    assert smtp[0].messages == []
    with unit_of_work(engine, write=False) as session:
        logged = view(session, campaign.communication_id)
    assert logged.status == "suppressed"
    assert "holds_product: holds the product credit_card" in (logged.outcomes[-1].detail or "")

    bob = person(client, engine, settings, user_id="u-bob", email="bob@example.com")
    with unit_of_work(engine) as session:
        create_destination(
            session, "adtech", "https://ads.example/hooks", purpose="marketing", subscriptions=["profile.merged"],
            consent=settings.consent,
        )  # fmt: skip
    _grant_marketing(engine, settings, bob)
    exported = client.post(
        "/v1/destinations/adtech/audiences",
        json={"audience": "card-spring", "product": "credit_card", "members": ["user_id:u-ada", "user_id:u-bob"]},
        headers=_key(engine, "destinations:admin"),
    )
    assert exported.status_code == 202, exported.text
    assert exported.json()["exported"] == [bob]
    assert [(x["profile_id"], x["rule"]) for x in exported.json()["left_out"]] == [(ada, "holds_product")]


def test_the_budget_counts_other_platforms_and_lets_service_through(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    settings = mail_settings.model_copy(update={"decisions": AWAKE})
    ada = person(client, engine, settings)
    _grant_marketing(engine, settings, ada)
    reported = {"type": "marketing", "platform": "mailchimp", "channel": "email", "template": "spring"}
    _track(
        client, engine, settings, "u-ada",
        ("Communication Sent", {"communication_id": "mc-1", **reported}),
        ("Communication Sent", {"communication_id": "mc-2", **reported}),
    )  # fmt: skip
    third = queue(engine, settings, ada, "savings_offer", {"first_name": "Ada"})
    deliver(engine, settings)
    fourth = queue(engine, settings, ada, "savings_offer", {"first_name": "Ada"})
    deliver(engine, settings)
    notice = queue(engine, settings, ada, "account_notice", {"first_name": "Ada", "change": "new address"})
    deliver(engine, settings)

    with unit_of_work(engine, write=False) as session:
        assert view(session, third.communication_id).status == "accepted"
        suppressed = view(session, fourth.communication_id)
        assert view(session, notice.communication_id).status == "accepted"
    assert suppressed.status == "suppressed"
    assert "fatigue budget spent: 3 of 3 messages in 7 days" in (suppressed.outcomes[-1].detail or "")
    assert len(smtp[0].messages) == 2


def test_quiet_hours_hold_marketing_until_eight_local_and_a_fraud_alert_goes_at_once(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    night_rules = DecisionsConfig(default_timezone="Europe/Paris", quiet_start="21:00", quiet_end="08:00")
    settings = mail_settings.model_copy(update={"decisions": night_rules})
    ada = person(client, engine, settings)
    _grant_marketing(engine, settings, ada)
    offer = queue(engine, settings, ada, "savings_offer", {"first_name": "Ada"})
    alert = queue(engine, settings, ada, "fraud_alert", {"first_name": "Ada", "merchant": "Shop", "amount": "9"})
    clock = [datetime(2026, 12, 1, 21, 0, tzinfo=UTC)]  # 22:00 in Paris

    def runner() -> Dispatcher:
        policy = ContactPolicy(settings.decisions, clock=lambda: clock[0])
        handler = EmailHandler(settings.email, settings.consent, None, policy=policy)
        return Dispatcher(engine, settings.outbox, [handler])

    night = runner()
    # One round: the claims read the real clock, by which the policy's 08:00 is already past, so every further
    # round would claim the held offer and hold it again (a thousand rounds, seconds of the suite).
    night.drain(rounds=1)
    night.stop()
    assert [m["Subject"] for m in smtp[0].messages] == ["Did you pay Shop?"]
    with unit_of_work(engine, write=False) as session:
        held = view(session, offer.communication_id)
        assert view(session, alert.communication_id).status == "accepted"
    assert held.status == "deferred"
    assert "quiet hours in Europe/Paris until 2026-12-02 08:00 local" in (held.outcomes[-1].detail or "")

    clock[0] = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # 08:00 in Paris: the held offer is due (a past time)
    morning = runner()
    morning.drain()
    morning.stop()
    assert len(smtp[0].messages) == 2
    with unit_of_work(engine, write=False) as session:
        assert view(session, offer.communication_id).status == "accepted"
