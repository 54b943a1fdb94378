"""Email end to end: queued in the caller's transaction, consent asked at send time, handed to a real SMTP server
on loopback, and every step in the communications log."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.communications.reachability import reachability
from seamline.communications.service import communications_of, view
from seamline.config import Settings
from seamline.consent.service import record_choice
from seamline.core.db import unit_of_work
from seamline.outbox.service import DEAD, entries, replay
from tests.communications.conftest import deliver, queue
from tests.support.people import person
from tests.support.smtp import Mailbox, free_port


def _choose(engine: Engine, settings: Settings, profile_id: int, purpose: str, value: str) -> None:
    with unit_of_work(engine) as session:
        record_choice(
            session,
            profile_id,
            kind="consent",
            purpose=purpose,
            channel="email",
            value=value,
            actor="test",
            surface="api",
            config=settings.consent,
        )


def _outbox_status(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT status FROM outbox_messages ORDER BY id"))]


def test_a_notice_reaches_a_real_smtp_server_as_multipart_with_its_stable_message_id(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    mailbox = smtp[0]
    ada = person(client, engine, mail_settings)
    queued = queue(
        engine, mail_settings, ada, "account_notice", {"first_name": "Ada", "change": "your <b>limit</b> rose"},
        source_system="cards", batch="limits-2026-12",
    )  # fmt: skip
    assert mailbox.messages == []  # nothing leaves until a dispatcher runs, after the commit

    assert deliver(engine, mail_settings) == 1

    [mail] = mailbox.messages
    assert mail["To"] == "ada@example.com"
    assert mail["Message-ID"] == f"<{queued.communication_id}@seamline.local>"
    assert mail["List-Unsubscribe"] is None  # a service notice, not marketing
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert plain is not None
    assert "your <b>limit</b> rose" in plain.get_content()
    assert html is not None
    assert "your &lt;b&gt;limit&lt;/b&gt; rose" in html.get_content()
    with unit_of_work(engine, write=False) as session:
        logged = view(session, queued.communication_id)
    assert [o.outcome for o in logged.outcomes] == ["queued", "accepted"]
    assert (logged.status, logged.address, logged.source_system, logged.batch) == (
        "accepted", "ada@example.com", "cards", "limits-2026-12",
    )  # fmt: skip
    assert logged.template_version == "2"
    assert logged.fields == {"first_name": "Ada", "change": "your <b>limit</b> rose"}
    assert _outbox_status(engine) == ["sent"]


def test_an_opt_out_made_between_queueing_and_sending_is_obeyed_and_the_suppression_logged(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    ada = person(client, engine, mail_settings)
    _choose(engine, mail_settings, ada, "marketing", "granted")
    queued = queue(engine, mail_settings, ada, "savings_offer", {"first_name": "Ada"})
    _choose(engine, mail_settings, ada, "marketing", "denied")

    deliver(engine, mail_settings)

    assert smtp[0].messages == []
    with unit_of_work(engine, write=False) as session:
        logged = view(session, queued.communication_id)
    assert logged.status == "suppressed"
    reason = logged.outcomes[-1].detail or ""
    assert "denied" in reason
    assert "marketing" in reason
    assert _outbox_status(engine) == ["suppressed"]


def test_marketing_mail_carries_one_click_unsubscribe_to_the_preference_page(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    ada = person(client, engine, mail_settings)
    _choose(engine, mail_settings, ada, "marketing", "granted")
    queue(engine, mail_settings, ada, "savings_offer", {"first_name": "Ada"}, preferences_url="https://bank.example/p")
    deliver(engine, mail_settings)

    [mail] = smtp[0].messages
    link = mail["List-Unsubscribe"]
    assert link.startswith("<https://bank.example/preferences/")
    assert link.endswith("/unsubscribe>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    path = link[len("<https://bank.example") : -1]
    answer = client.post(path, content=b"List-Unsubscribe=One-Click",
                         headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    queue(engine, mail_settings, ada, "savings_offer", {"first_name": "Ada"})
    deliver(engine, mail_settings)
    assert len(smtp[0].messages) == 1  # the one-click opt-out holds for the next offer


def test_a_hard_bounce_makes_the_address_unreachable_even_for_critical_messages(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    mailbox = smtp[0]
    mailbox.refused.add("ada@example.com")
    ada = person(client, engine, mail_settings)
    bounced = queue(engine, mail_settings, ada, "account_notice", {"first_name": "Ada", "change": "x"})
    deliver(engine, mail_settings)

    with unit_of_work(engine, write=False) as session:
        logged = view(session, bounced.communication_id)
        reach = reachability(session, ada, ["email"])["email"]
    assert logged.status == "bounced_hard"
    assert "550" in (logged.outcomes[-1].detail or "")
    assert not reach.reachable
    assert "bounced_hard" in reach.reason
    assert _outbox_status(engine) == ["failed"]  # refused for good: not retried, not a dead letter

    mailbox.refused.clear()
    alert = queue(engine, mail_settings, ada, "fraud_alert", {"first_name": "Ada", "merchant": "Shop", "amount": "9"})
    deliver(engine, mail_settings)
    assert mailbox.messages == []
    with unit_of_work(engine, write=False) as session:
        assert view(session, alert.communication_id).status == "suppressed"


def test_critical_messages_pass_an_opt_out_of_their_purpose(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    ada = person(client, engine, mail_settings)
    _choose(engine, mail_settings, ada, "service", "denied")
    notice = queue(engine, mail_settings, ada, "account_notice", {"first_name": "Ada", "change": "x"})
    alert = queue(engine, mail_settings, ada, "fraud_alert", {"first_name": "Ada", "merchant": "Shop", "amount": "9"})
    deliver(engine, mail_settings)

    assert [m["Subject"] for m in smtp[0].messages] == ["Did you pay Shop?"]
    with unit_of_work(engine, write=False) as session:
        assert view(session, notice.communication_id).status == "suppressed"
        assert view(session, alert.communication_id).status == "accepted"


def test_an_unreachable_smtp_server_means_retries_then_a_dead_letter_that_replays_with_the_same_message_id(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    ada = person(client, engine, mail_settings)
    queued = queue(engine, mail_settings, ada, "account_notice", {"first_name": "Ada", "change": "x"})
    nowhere = mail_settings.email.model_copy(update={"smtp_port": free_port()})  # nothing listens there
    deliver(engine, mail_settings.model_copy(update={"email": nowhere}))  # an attempt and two retries, all refused
    with unit_of_work(engine, write=False) as session:
        [dead] = entries(session, DEAD)
        logged = view(session, queued.communication_id)
    assert dead.attempts == 3
    assert "unreachable" in (dead.last_error or "")
    assert [o.outcome for o in logged.outcomes] == ["queued", "deferred", "deferred", "failed"]
    assert smtp[0].messages == []

    with unit_of_work(engine) as session:
        replay(session, [dead.id])
    deliver(engine, mail_settings)
    [mail] = smtp[0].messages
    assert mail["Message-ID"] == f"<{queued.communication_id}@seamline.local>"
    with unit_of_work(engine, write=False) as session:
        assert view(session, queued.communication_id).status == "accepted"


def test_a_person_sees_their_communications_newest_first(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    ada = person(client, engine, mail_settings)
    first = queue(engine, mail_settings, ada, "account_notice", {"first_name": "Ada", "change": "one"})
    second = queue(engine, mail_settings, ada, "account_notice", {"first_name": "Ada", "change": "two"})
    with unit_of_work(engine, write=False) as session:
        found = communications_of(session, ada)
    assert {c.communication_id for c in found} == {first.communication_id, second.communication_id}
    assert found[0].created_at >= found[1].created_at


def test_a_click_on_a_tracked_link_redirects_to_the_offer_and_is_logged_with_the_open(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    ada = person(client, engine, mail_settings)
    _choose(engine, mail_settings, ada, "marketing", "granted")
    queued = queue(
        engine,
        mail_settings,
        ada,
        "savings_offer",
        {"first_name": "Ada"},
        preferences_url="https://bank.example/preferences/t",
    )
    deliver(engine, mail_settings)

    [mail] = smtp[0].messages
    html = mail.get_body(preferencelist=("html",)).get_content()
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    assert "https://bank.example/savings" not in html  # the offer's link goes through our redirect
    assert 'href="https://bank.example/preferences/t"' in html  # the preference page is ours: left as it is
    [click] = re.findall(r'href="https://bank\.example(/t/c/[^"]+)"', html)
    [pixel] = re.findall(r'src="https://bank\.example(/t/o/[^"]+)"', html)
    assert re.search(r"https://bank\.example/t/c/\S+\.", plain)  # the text part's address too, its full stop kept

    assert client.get(click[:-3] + "AAA", follow_redirects=False).status_code == 404  # altered: nothing logged
    answer = client.get(click, follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://bank.example/savings?from=email&offer=rate"
    shown = client.get(pixel)
    assert (shown.status_code, shown.headers["content-type"]) == (200, "image/gif")

    with unit_of_work(engine, write=False) as session:
        logged = view(session, queued.communication_id)
    assert [o.outcome for o in logged.outcomes] == ["queued", "accepted", "clicked", "opened"]
    assert (logged.outcomes[2].detail or "").startswith("https://bank.example/savings?from=email&offer=rate")
    assert logged.status == "opened"
