"""Other platforms' communications: the `Communication *` event family, sent in a real SDK's wire format through
the tracking API and taken by the worker's event pipeline, where the communications consumer is registered."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.communications.consumer import ResolvedEvent, record_communication_events
from seamline.communications.reachability import reachability
from seamline.communications.service import communications_of, view
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _track(event: str, **properties: Any) -> dict[str, Any]:
    return {"type": "track", "userId": "u-ada", "event": event, "properties": properties}


SENT = {
    "communication_id": "mc-123",
    "type": "marketing",
    "template": "spring-sale",
    "batch": "2026-03-spring",
    "platform": "mailchimp",
    "channel": "email",
    "source_system": "crm",
    "address": "ada@example.com",
}


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 (a fixed table name)


def test_another_platforms_send_and_its_outcomes_are_in_the_log_and_a_hard_bounce_closes_the_address(
    client: TestClient, engine: Engine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _, key = make_source(engine, "crm", "crm")
    send(
        client,
        key,
        {"type": "identify", "userId": "u-ada", "traits": {"email": "ada@example.com"}},
        _track("Communication Delivered", communication_id="mc-123"),  # before its send: a stub is made
        _track("Communication Sent", **SENT),
        _track("Communication Opened", communication_id="mc-123"),
        _track("Communication Clicked", communication_id="mc-123", url="https://shop.example/sale"),
        _track(
            "Communication Bounced",
            communication_id="mc-456",
            bounce_type="hard",
            reason="550 no such user",
            address="ada@example.com",
        ),
        _track("Communication Opened"),  # no communication_id: reported, not raised
        _track("Order Completed", order_id="o1"),  # not of the family: ignored
    )
    with caplog.at_level(logging.WARNING, logger="seamline.communications.consumer"):
        assert drain(engine, settings) == 8
    assert _count(engine, "communications") == 2
    assert _count(engine, "communication_outcomes") == 5
    assert [r.getMessage().split(": ", 1)[1] for r in caplog.records] == [
        "properties.communication_id names the communication"
    ]

    ada = profile_holding(engine, "user_id:u-ada")
    with unit_of_work(engine, write=False) as session:
        logged = view(session, "mc-123")
        everything = communications_of(session, ada)
        reach = reachability(session, ada, ["email"])["email"]
    assert (logged.platform, logged.type, logged.template, logged.batch, logged.source_system) == (
        "mailchimp", "marketing", "spring-sale", "2026-03-spring", "crm",
    )  # fmt: skip
    assert logged.profile_id == ada
    assert [o.outcome for o in logged.outcomes] == ["delivered", "sent", "opened", "clicked"]
    assert logged.status == "clicked"
    assert {c.communication_id for c in everything} == {"mc-123", "mc-456"}
    assert not reach.reachable


def test_a_replayed_event_is_logged_once(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, key = make_source(engine, "crm", "crm")
    send(client, key, {"type": "identify", "userId": "u-ada", "traits": {}}, _track("Communication Sent", **SENT))
    drain(engine, settings)
    assert _count(engine, "communication_outcomes") == 1
    with engine.connect() as conn:
        event_id = conn.execute(text("SELECT event_id FROM communication_outcomes")).scalar_one()
    ada = profile_holding(engine, "user_id:u-ada")
    payload = _track("Communication Sent", **SENT)
    with unit_of_work(engine) as session:  # an unmerge replays the person's events through the consumer again
        replayed = record_communication_events(session, [ResolvedEvent(event_id, ada, payload, utcnow())])
    assert (replayed.communications, replayed.outcomes) == (0, 0)
    with unit_of_work(engine, write=False) as session:
        assert [o.outcome for o in view(session, "mc-123").outcomes] == ["sent"]
