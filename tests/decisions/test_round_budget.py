"""One fatigue budget within a dispatcher round, both databases: an email and an SMS to the same person claimed in
the same round are checked against one budget (the round's checks count what they already let through, whatever
its kind), so with a cap of one exactly one of them leaves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.config import ProviderConfig
from seamline.communications.service import queue_message, view
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.decisions.config import Cap, DecisionsConfig
from tests.communications.conftest import deliver
from tests.decisions.test_policy import _grant_marketing
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send
from tests.support.providers import ACCOUNT_SID, AUTH_TOKEN, Provider, provider_server
from tests.support.smtp import Mailbox

# A marketing offer that may go by email or by SMS (the shipped marketing templates are email only).
FLASH_OFFER = """
version: "1"
type: marketing
purpose: marketing
topic: offers
priority: marketing
owner: marketing-team
channels: [email, sms]
fields: [first_name]
subject: "{{ first_name }}, a better rate for your savings"
text: |
  Hello {{ first_name }}, our new savings account pays more. Change what we send you: {{ preferences_url }}
sms: |
  Bank: {{ first_name }}, our new savings account pays more.
"""


@pytest.fixture
def provider() -> Iterator[Provider]:
    with provider_server() as served:
        yield served


@pytest.fixture
def budget_settings(mail_settings: Settings, provider: Provider) -> Settings:
    """Email to the loopback SMTP server, SMS to the loopback Twilio, and a budget of one message a week."""
    sms = ProviderConfig(
        provider="twilio", url=provider.url, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+15005550006"
    )
    one_a_week = DecisionsConfig(caps=[Cap(window_days=7, limit=1)])  # no quiet hours: the test runs at any hour
    return mail_settings.model_copy(update={"sms": sms, "decisions": one_a_week, "public_url": "https://bank.example"})


def _offer(engine: Engine, settings: Settings, folder: Path, profile_id: int, channel: str) -> str:
    with unit_of_work(engine) as session:
        made, _ = queue_message(
            session, profile_id, "flash_offer", {"first_name": "Ada"}, catalog=Catalog(folder),
            consent=settings.consent, channel=channel,
        )  # fmt: skip
    return made.communication_id


def test_an_email_and_an_sms_in_one_round_share_a_budget_of_one(
    client: TestClient,
    engine: Engine,
    budget_settings: Settings,
    smtp: tuple[Mailbox, int],
    provider: Provider,
    tmp_path: Path,
) -> None:
    settings = budget_settings
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "flash_offer.yaml").write_text(FLASH_OFFER, encoding="utf-8")
    _, key = make_source(engine, "ios-app", "mobile")
    identify = {"type": "identify", "userId": "u-ada",
                "traits": {"email": "ada@example.com", "phone": "+447911123456", "first_name": "Ada"}}  # fmt: skip
    send(client, key, identify)
    drain(engine, settings)
    ada = profile_holding(engine, "user_id:u-ada")
    _grant_marketing(engine, settings, ada)
    by_email = _offer(engine, settings, folder, ada, "email")
    by_sms = _offer(engine, settings, folder, ada, "sms")

    assert deliver(engine, settings) == 2  # one round: both claimed together, each checked before either is sent

    assert len(smtp[0].messages) + len(provider.received) == 1
    with unit_of_work(engine, write=False) as session:
        sent, held_back = view(session, by_email), view(session, by_sms)
    assert (sent.channel, sent.status) == ("email", "accepted")
    assert (held_back.channel, held_back.status) == ("sms", "suppressed")
    assert "fatigue budget spent: 1 of 1 messages in 7 days" in (held_back.outcomes[-1].detail or "")
    assert provider.received == []
