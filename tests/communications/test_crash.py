"""kill -9 of a dispatcher in the middle of a run: nothing is lost, and no second distinct message is sent (a
message sent but not yet marked goes again with the same Message-ID)."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.config import Settings
from tests.communications.conftest import deliver, queue
from tests.support.crash import kill_dispatcher_midway
from tests.support.people import person
from tests.support.smtp import Mailbox

MESSAGES = 30


def test_a_dispatcher_killed_mid_run_loses_nothing_and_sends_no_second_distinct_message(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    ada = person(client, engine, mail_settings)
    notices = [{"first_name": "Ada", "change": str(n)} for n in range(MESSAGES)]
    queued = {queue(engine, mail_settings, ada, "account_notice", data).communication_id for data in notices}
    mailbox.delay_seconds = 0.05  # a slow server: the kill lands while a claimed batch is being sent
    kill_dispatcher_midway(mail_settings, lambda: len(mailbox.messages), {"SEAMLINE_EMAIL__SMTP_PORT": str(port)})
    assert 5 <= len(mailbox.messages) < MESSAGES  # it died in the middle
    mailbox.delay_seconds = 0.0
    deliver(engine, mail_settings)

    ids = Counter(str(m["Message-ID"]).strip("<>").split("@")[0] for m in mailbox.messages)
    assert set(ids) == queued  # every message arrived, and nothing else did
    assert all(count <= 2 for count in ids.values())  # a repeat carries the same Message-ID: no distinct second
    with engine.connect() as conn:
        assert {r[0] for r in conn.execute(text("SELECT status FROM outbox_messages"))} == {"sent"}
        accepted = conn.execute(text("SELECT count(*) FROM communications WHERE status = 'accepted'")).scalar()
    assert accepted == MESSAGES
