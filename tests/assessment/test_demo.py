"""The demo bank's communications ecosystem: the events and the print log it feeds through the documented paths
make a tangled picture with an undeclared communication and breaks in it."""

from __future__ import annotations

from datetime import UTC, datetime

from seamline.communications.config import BUILTIN_DIR
from seamline.communications.consumer import EVENTS
from seamline.communications.templates import Catalog
from seamline.demo.bank import demo_people
from seamline.demo.communications import STREAMS, communication_events, print_send_log

NOW = datetime(2026, 12, 5, tzinfo=UTC)


def test_the_demo_ecosystem_speaks_the_documented_event_family_and_send_log() -> None:
    people = demo_people(200)
    events = communication_events(people, NOW)
    names = {m["event"] for _, m in events}
    assert {"Communication Sent", "Communication Delivered", "Communication Bounced", "Communication Opened"} <= names
    assert names - set(EVENTS) == {"Statement Viewed", "Account Opened", "Documents Uploaded"}  # goal events
    sent = [m["properties"] for _, m in events if m["event"] == "Communication Sent"]
    assert {(p["platform"], p["channel"]) for p in sent} == {
        ("edelivery", "email"), ("mailer", "email"), ("sms-gateway", "sms"), ("marketing-cloud", "email"),
    }  # fmt: skip
    assert [m["timestamp"] for _, m in events] == sorted(m["timestamp"] for _, m in events)
    catalog = Catalog(BUILTIN_DIR)
    declared = set(catalog.names())
    assert {s.template for s in STREAMS} - declared == {"card_alert_sms"}  # the one nobody declared
    letters = print_send_log(people, NOW)
    assert letters
    assert {r["outcome"] for r in letters} == {"printed", "bounced_hard"}
    assert "paper_statement" in declared
    assert catalog.get("paper_statement").platform == "print-vendor"
