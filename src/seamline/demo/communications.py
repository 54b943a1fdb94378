"""The demo bank's communications ecosystem, the tangle a real bank has: statements from core banking through a
print vendor and an e-delivery platform, card notices through an email platform, marketing from a marketing
tool, card alerts by SMS that nobody declared, and a mortgage journey's emails and texts.

Every send goes in through the documented paths: the other platforms report their sends and outcomes with the
`Communication *` tracking events (docs/communications.md), and the print vendor hands over its send log, imported
with `import_send_log` (what `seamline communications import` runs). Their declarations are the shipped
declaration-only templates (`platform:` another platform). So the first look at the console's Communications
area shows a true picture, breaks included.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from seamline.communications.sendlog import SendLogReport, import_send_log
from seamline.core.db import unit_of_work
from seamline.core.errors import NotFound
from seamline.identity.service import IdentityContext, find_profile
from seamline.synthetic.people import Person

SEED = 1812


@dataclass(frozen=True, slots=True)
class Stream:
    """One communication another platform sends: who gets it, how it lands, and what the reader does after."""

    template: str
    type: str
    platform: str
    channel: str
    source: str  # the system whose data feeds it (and whose write key reports it)
    holding: str | None  # who gets it: holders of this product (None: everyone with a login)
    per_person: int  # sends in the month
    bounce: float
    open: float
    click: float
    complain: float
    late: float  # share delivered a day or more after sending (a slow platform)
    goal: str | None = None  # the event a reader does next, when it works
    goal_share: float = 0.0


STREAMS = (
    Stream("estatement", "statement", "edelivery", "email", "core-banking", "checking_account", 1, 0.02, 0.45, 0.2,
           0.0, 0.0, "Statement Viewed", 0.35),
    Stream("card_notice", "notice", "mailer", "email", "cards-system", "credit_card", 2, 0.04, 0.5, 0.1, 0.001,
           0.01),
    Stream("card_alert_sms", "notice", "sms-gateway", "sms", "cards-system", "credit_card", 4, 0.01, 0.0, 0.0, 0.0,
           0.0),
    Stream("spring_offer", "marketing", "marketing-cloud", "email", "crm", None, 1, 0.05, 0.22, 0.04, 0.004, 0.08,
           "Account Opened", 0.01),
    Stream("mortgage_documents_needed", "service", "mailer", "email", "mortgage-system", "mortgage", 1, 0.03, 0.6,
           0.4, 0.0, 0.0, "Documents Uploaded", 0.3),
    Stream("mortgage_application_received", "service", "sms-gateway", "sms", "mortgage-system", "mortgage", 1, 0.02,
           0.0, 0.0, 0.0, 0.0),
)  # fmt: skip
PRINT_RETURNED = 0.03  # letters that come back: the address on file is wrong


def _holds(person: Person, kind: str | None) -> bool:
    return kind is None or any(h.kind == kind and h.status != "closed" for h in person.holdings)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def communication_events(people: Sequence[Person], now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """The other platforms' reports of the month's sends, outcomes and what readers did next, with their source."""
    rng = random.Random(SEED)
    start = now - timedelta(days=30)
    out: list[tuple[str, dict[str, Any]]] = []
    for stream in STREAMS:
        for person in people:
            if person.user_id is None or not _holds(person, stream.holding):
                continue
            for n in range(stream.per_person):
                sent = start + timedelta(seconds=rng.uniform(0, 29 * 86_400))
                cid = f"{stream.platform}-{stream.template}-{person.person_key}-{n}"

                def track(
                    event: str,
                    at: datetime,
                    properties: dict[str, Any],
                    person: Person = person,
                    stream: Stream = stream,
                ) -> None:
                    out.append((stream.source, {"type": "track", "userId": person.user_id, "event": event,
                                                "properties": properties, "timestamp": _iso(at)}))  # fmt: skip

                track("Communication Sent", sent, {
                    "communication_id": cid, "type": stream.type, "template": stream.template,
                    "batch": f"{stream.template}-{sent:%Y-%m-%d}", "platform": stream.platform,
                    "channel": stream.channel, "source_system": stream.source,
                })  # fmt: skip
                if rng.random() < stream.bounce:
                    kind = "soft" if rng.random() < 0.3 else "hard"
                    track(
                        "Communication Bounced",
                        sent + timedelta(minutes=2),
                        {"communication_id": cid, "bounce_type": kind, "reason": "mailbox unavailable"},
                    )
                    continue
                delay = timedelta(hours=rng.uniform(24, 60)) if rng.random() < stream.late else timedelta(
                    seconds=rng.uniform(2, 900))  # fmt: skip
                track("Communication Delivered", sent + delay, {"communication_id": cid})
                if rng.random() < stream.open:
                    track("Communication Opened", sent + delay + timedelta(hours=3), {"communication_id": cid})
                    if rng.random() < stream.click / max(stream.open, 1e-9):
                        track(
                            "Communication Clicked",
                            sent + delay + timedelta(hours=3, minutes=1),
                            {"communication_id": cid, "url": "https://bank.example/offer"},
                        )
                if rng.random() < stream.complain:
                    track("Communication Complained", sent + delay + timedelta(hours=5), {"communication_id": cid})
                if stream.goal and rng.random() < stream.goal_share:
                    track(
                        stream.goal, sent + delay + timedelta(hours=rng.uniform(4, 72)), {"template": stream.template}
                    )
    out.sort(key=lambda item: str(item[1]["timestamp"]))
    return out


def print_send_log(people: Sequence[Person], now: datetime) -> list[dict[str, str]]:
    """The print vendor's send log for the month's paper statements: one letter per checking account holder
    without a login (paper is what they get), some returned."""
    rng = random.Random(SEED + 1)
    run = (now - timedelta(days=25)).replace(hour=6, minute=0, second=0, microsecond=0)
    rows = []
    for person in people:
        if not person.emails or not _holds(person, "checking_account"):
            continue
        outcome = "bounced_hard" if rng.random() < PRINT_RETURNED else "printed"
        rows.append({
            "communication_id": f"printco-{run:%Y%m}-{person.person_key}", "customer": f"email:{person.emails[0]}",
            "type": "statement", "template": "paper_statement", "template_version": "7", "batch": f"stmt-{run:%Y-%m}",
            "platform": "print-vendor", "channel": "paper", "source_system": "core-banking",
            "sent_at": _iso(run + timedelta(seconds=rng.uniform(0, 7200))), "outcome": outcome,
        })  # fmt: skip
    return rows


def import_print_log(engine: Engine, identity: IdentityContext, rows: Sequence[dict[str, str]]) -> SendLogReport:
    """Import the print vendor's log as `seamline communications import` does; rows naming nobody Seamline knows
    yet (a customer whose events are still in the worker) are left for the next log."""
    known: list[dict[str, str]] = []
    with unit_of_work(engine, write=False) as session:
        for row in rows:
            try:
                find_profile(session, row["customer"], identity)
            except (ValueError, NotFound):
                continue
            known.append(row)
    with unit_of_work(engine) as session:
        return import_send_log(session, known, identity)
