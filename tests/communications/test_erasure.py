"""Erasure reaches the communications log and the outbox: personal content goes, the fact of sending stays."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.communications.service import view
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.privacy.service import erase_profile, open_request
from tests.communications.conftest import deliver, queue
from tests.support.people import person
from tests.support.smtp import Mailbox


def test_erasure_empties_the_log_of_personal_content_and_deletes_waiting_messages(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    ada = person(client, engine, mail_settings)
    sent = queue(engine, mail_settings, ada, "account_notice", {"first_name": "Ada", "change": "new limit 5,000"})
    deliver(engine, mail_settings)
    smtp[0].refused.add("ada@example.com")
    queue(engine, mail_settings, ada, "account_notice", {"first_name": "Ada", "change": "limit 9,000"})

    with unit_of_work(engine) as session:
        request = open_request(session, "erasure", ada, requested_by="dpo")
        result = erase_profile(session, request.id).result
    assert result["communications_erased"] == 2
    assert result["outbox_messages_erased"] == 2

    with unit_of_work(engine, write=False) as session:
        kept = view(session, sent.communication_id)
    assert (kept.address, kept.subject, dict(kept.fields)) == (None, None, {})
    assert [o.outcome for o in kept.outcomes] == ["queued", "accepted"]  # what happened stays, without details
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox_messages")).scalar() == 0
        dumped = " ".join(str(r) for r in conn.execute(text("SELECT * FROM communications")))
        dumped += " ".join(str(r) for r in conn.execute(text("SELECT * FROM communication_outcomes")))
    assert "ada@example.com" not in dumped
    assert "5,000" not in dumped
    assert "9,000" not in dumped
    assert deliver(engine, mail_settings) == 0  # nothing left to send to an erased person
