"""The customer page's communications section: what was sent, by whom, and what became of it."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.service import Happened, queue_message, record_outcomes
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.destinations.service import create_destination, list_destinations
from seamline.outbox.config import OutboxConfig
from seamline.outbox.service import RETRY, Attempt, claim, enqueue, entry, settle
from tests.console.conftest import SignIn
from tests.support.people import person


def test_the_customer_page_lists_communications_with_their_outcomes(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada = person(console, engine, settings)
    sign_in("agent")
    assert "No communications yet." in console.get(f"/console/customers/{ada}").text
    with unit_of_work(engine) as session:
        view, _ = queue_message(
            session, ada, "account_notice", {"first_name": "Ada", "change": "new limit"},
            catalog=Catalog(settings.email.templates_dir), consent=settings.consent, batch="limits-dec",
            source_system="cards",
        )  # fmt: skip
        record_outcomes(session, [Happened(view.communication_id, "bounced_hard", "550 <mailbox> unknown", "smtp")])
    page = console.get(f"/console/customers/{ada}").text
    section = page[page.index('id="communications"') :]
    for shown in ("A change to your account", "account_notice", "batch limits-dec", "data from cards", "bounced_hard"):
        assert shown in section, shown
    assert "550 &lt;mailbox&gt; unknown" in section  # escaped, as everything the page shows


def test_the_outbox_page_replays_and_discards_dead_letters_and_pauses_destinations_for_admins_only(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    with unit_of_work(engine) as session:
        create_destination(session, "crm", "http://127.0.0.1:9/x", purpose="analytics",
                           subscriptions=["profile.erased"], consent=settings.consent)  # fmt: skip
        first, _ = enqueue(session, "webhook", "destination:crm", {"body": {}})
        second, _ = enqueue(session, "webhook", "destination:crm", {"body": {}})
    config = OutboxConfig(retry_schedule_seconds=[])
    with unit_of_work(engine) as session:
        held = claim(session, ["webhook"], config)
        settle(session, held, [Attempt(e.id, RETRY, "HTTP 502") for e in held.entries], config, random.Random())

    sign_in("agent")
    assert console.get("/console/outbox").status_code == 403
    console.cookies.clear()
    csrf = sign_in("admin")
    page = console.get("/console/outbox").text
    assert "HTTP 502" in page
    assert "dead: 2" in page
    assert (
        console.post(
            f"/console/outbox/{first.id}/replay", data={"csrf_token": csrf}, follow_redirects=False
        ).status_code
        == 303
    )
    assert (
        console.post(
            f"/console/outbox/{second.id}/discard", data={"csrf_token": csrf}, follow_redirects=False
        ).status_code
        == 303
    )
    assert (
        console.post("/console/destinations/crm/pause", data={"csrf_token": csrf}, follow_redirects=False).status_code
        == 303
    )
    with unit_of_work(engine, write=False) as session:
        assert entry(session, first.id).status == "pending"
        assert entry(session, second.id).status == "discarded"
        assert list_destinations(session)[0].status == "paused"
    assert (
        console.post(
            f"/console/outbox/{second.id}/replay", data={"csrf_token": csrf}, follow_redirects=False
        ).status_code
        == 404
    )
