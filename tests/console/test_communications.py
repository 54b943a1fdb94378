"""The customer page's communications section: what was sent, by whom, and what became of it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.service import Happened, queue_message, record_outcomes
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
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
