"""The demo's messages: for a few customers with a login and a mobile number, a secure message in the app's inbox
and a fraud alert by SMS. They leave through the outbox like any message: the in-app one lands in the inbox at
once (an `inbox:read` key reads it: `GET /v1/inbox?identifier=user_id:…`); the SMS goes to the configured provider
(`[sms]`), and without one waits, retried, on the console's Outbox page."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from seamline.communications.service import queue_message
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import NotFound
from seamline.identity.service import IdentityContext, find_profile
from seamline.synthetic.people import Person

DEMO_RECIPIENTS = 3


def queue_demo_messages(engine: Engine, settings: Settings, identity: IdentityContext, people: Sequence[Person]) -> int:
    """Queue an in-app message and an SMS fraud alert for a few customers; returns how many messages."""
    catalog = Catalog(settings.email.templates_dir)
    queued = 0
    for person in people[DEMO_RECIPIENTS * 10 :]:  # the conversations and privacy requests take other customers
        if person.user_id is None or person.phone is None:
            continue
        with unit_of_work(engine) as session:
            try:
                profile_id = find_profile(session, f"user_id:{person.user_id}", identity).profile_id
            except (NotFound, ValueError):
                continue
            card = {"first_name": person.first_name, "topic": "Your new card is on its way",
                    "message": "it was posted today; activate it in the app when it arrives."}  # fmt: skip
            queue_message(session, profile_id, "secure_message", card, catalog=catalog, consent=settings.consent,
                          channel="in_app", source_system="digital-banking")  # fmt: skip
            alert = {"first_name": person.first_name, "merchant": "ONLINE-ELECTRONICS", "amount": "$1,249.00"}
            queue_message(session, profile_id, "fraud_alert", alert, catalog=catalog, consent=settings.consent,
                          channel="sms", source_system="cards")  # fmt: skip
        queued += 2
        if queued >= DEMO_RECIPIENTS * 2:
            break
    return queued
