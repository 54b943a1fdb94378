"""A small communications ecosystem whose every figure is computed by hand in the tests.

- stmt (declared; 0.80 a message): core-banking -> print-vendor -> paper; s1..s4 to profiles 1..4, all printed,
  s3 returned (bounced_hard).
- card_notice (declared; goal "Card Activated" within 2 days): cards -> mailer -> email; c1..c5 to profiles 1..5,
  each sent 60 s after it was logged; c1 delivered after 300 s and opened, c2 after 900 s, opened and clicked,
  c3 after 3600 s; c4 bounced_hard; c5 held (quiet hours).
- promo-x (NOT declared): crm -> martech -> sms; p1, p2 to profiles 1, 2; p2 failed.
- survey: declared, never sent.

Profile 1 activates its card a day after c1 (a conversion); profile 2 three days after c2 (outside the window);
profile 4 opens a case a day after c4 (and three days after s4: a contact after both). Trait provenance: branch
holds the address of profiles 1..4 first; mortgage-app collects it later for 1, 2, 3 (2 disagreeing) and 5 (new).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from seamline.assessment.config import AssessmentConfig
from seamline.assessment.service import Assessment
from seamline.cases.models import Case
from seamline.communications.service import ExternalCommunication, Happened, log_external, record_outcomes
from seamline.communications.templates import Catalog
from seamline.core.db import unit_of_work
from seamline.profiles.models import ProfileEvent, TraitValue
from tests.support.builders import make_source

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # statements
T1 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # card notices

DECLARATIONS = {
    "stmt": """
type: statement
purpose: service
priority: service
owner: statements-team
platform: print-vendor
source_systems: [core-banking]
channels: [paper]
cost_per_message: 0.80
""",
    "card_notice": """
version: "3"
type: notice
purpose: service
priority: service
owner: cards-team
platform: mailer
source_systems: [cards]
channels: [email]
goal_event: Card Activated
goal_window_days: 2
""",
    "survey": """
type: survey
purpose: analytics
priority: marketing
owner: cx-team
channels: [email]
subject: "How did we do?"
text: "Tell us."
""",
}


def catalog(directory: Path) -> Catalog:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in DECLARATIONS.items():
        (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return Catalog(directory)


def build(engine: Engine, tmp_path: Path, config: AssessmentConfig | None = None) -> Assessment:
    """Store the ecosystem and return an assessment of it."""
    branch, _ = make_source(engine, "branch", "branch")
    mortgage, _ = make_source(engine, "mortgage-app", "web")
    sends: list[ExternalCommunication] = []
    happened: list[Happened] = []
    for i in range(1, 5):
        sends.append(
            ExternalCommunication(
                f"s{i}",
                i,
                "statement",
                "paper",
                "print-vendor",
                template="stmt",
                batch="stmt-2026-12",
                source_system="core-banking",
                occurred_at=T0,
            )
        )
        happened.append(Happened(f"s{i}", "printed", origin="import", occurred_at=T0))
    happened.append(Happened("s3", "bounced_hard", "returned mail", "import", occurred_at=T0 + timedelta(days=5)))
    for i in range(1, 6):
        sends.append(
            ExternalCommunication(
                f"c{i}",
                i,
                "notice",
                "email",
                "mailer",
                template="card_notice",
                template_version="3",
                batch=f"cards-{i}",
                source_system="cards",
                occurred_at=T1,
            )
        )
    for i, delay in ((1, 300), (2, 900), (3, 3600)):
        happened.append(Happened(f"c{i}", "sent", origin="event", occurred_at=T1 + timedelta(seconds=60)))
        happened.append(Happened(f"c{i}", "delivered", origin="event", occurred_at=T1 + timedelta(seconds=60 + delay)))
    happened.append(Happened("c4", "sent", origin="event", occurred_at=T1 + timedelta(seconds=60)))
    happened.append(Happened("c4", "bounced_hard", "550 no such user", "event", occurred_at=T1 + timedelta(minutes=2)))
    happened.append(Happened("c5", "suppressed", "quiet hours", "event", occurred_at=T1 + timedelta(seconds=60)))
    for who in ("c1", "c2"):
        happened.append(Happened(who, "opened", origin="event", occurred_at=T1 + timedelta(hours=2)))
    happened.append(Happened("c2", "clicked", origin="event", occurred_at=T1 + timedelta(hours=3)))
    for i in (1, 2):
        sends.append(
            ExternalCommunication(
                f"p{i}", i, "marketing", "sms", "martech", template="promo-x", source_system="crm", occurred_at=T1
            )
        )
        happened.append(Happened(f"p{i}", "sent", origin="import", occurred_at=T1))
    happened.append(Happened("p2", "failed", "carrier refused", "import", occurred_at=T1))
    with unit_of_work(engine) as session:
        log_external(session, sends)
        record_outcomes(session, happened)
        session.add_all([
            ProfileEvent(event_id=9001, profile_id=1, source_id=branch.id, type="track", name="Card Activated",
                         occurred_at=T1 + timedelta(days=1)),
            ProfileEvent(event_id=9002, profile_id=2, source_id=branch.id, type="track", name="Card Activated",
                         occurred_at=T1 + timedelta(days=3)),
            ProfileEvent(event_id=9003, profile_id=3, source_id=branch.id, type="track", name="Card Activated",
                         occurred_at=T1 - timedelta(days=1)),
        ])  # fmt: skip
        session.add(
            Case(profile_id=4, origin_profile_id=4, subject="My card", priority="normal", status="open",
                 queue="cards", channel="phone", opened_by="agent", opened_at=T1 + timedelta(days=1),
                 updated_at=T1 + timedelta(days=1))
        )  # fmt: skip
        for profile in range(1, 5):
            session.add(_trait(profile, branch.id, f"addr-{profile}", T0))
        for profile, value in ((1, "addr-1"), (2, "addr-2-new"), (3, "addr-3"), (5, "addr-5")):
            session.add(_trait(profile, mortgage.id, value, T0 + timedelta(days=4)))
    return Assessment(engine, catalog(tmp_path / "templates"), config or AssessmentConfig())


def _trait(profile: int, source: int, value: str, at: datetime) -> TraitValue:
    return TraitValue(
        profile_id=profile, name="address", value_json=f'"{value}"', value_hash=value, source_id=source,
        first_event_id=1, last_event_id=1, first_seen_at=at, last_seen_at=at, times_seen=1,
    )  # fmt: skip
