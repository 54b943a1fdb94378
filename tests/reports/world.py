"""A small store whose every overview figure is computed by hand in the tests.

- Communications: the assessment's ecosystem (tests/assessment/ecosystem.py): email 5 (1 held; of the 4 sent 3
  delivered, 2 opened, 1 clicked, 1 bounced), paper 4 (3 delivered, 1 returned), sms 2 (1 failed), in Dec 2026.
- Customers: profiles 1..5, and 6 merged into 1 (not a customer of its own).
- Consent (marketing, email, customer-wide): 1 granted; 2 granted then denied; 3 denied; 4 granted for a product
  only (not coverage). Statements: 1, 2, 3 electronic, 4 paper.
- Journeys (open_account: details → verify → sign): 2 completed, 1 abandoned, 1 open at details, 1 joined.
- Errors: a wrong recipient on c1 (critical, acknowledged at once), a wrong balance on s2.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from seamline.analytics.service import Analytics
from seamline.assessment.service import Assessment
from seamline.consent.models import ConsentChoice
from seamline.core.db import unit_of_work
from seamline.errors.service import acknowledge
from seamline.identity.models import Profile
from seamline.journeys.models import JourneyDefinitionRow, JourneyInstance
from seamline.reports.config import ReportsConfig
from seamline.reports.dashboards import Dashboard, Dashboards
from seamline.reports.filters import Filters
from tests.assessment.ecosystem import build as build_communications
from tests.errors.builders import AGENT, report

T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DECEMBER = Filters(since=date(2026, 11, 1), until=date(2026, 12, 31))
STEPS = [{"key": "details"}, {"key": "verify"}, {"key": "sign"}]


def _choice(profile: int, at: datetime, value: str, **subject: str | None) -> ConsentChoice:
    kind = "delivery" if "document_type" in subject else "consent"
    return ConsentChoice(
        profile_id=profile, origin_profile_id=profile, kind=kind, purpose=subject.get("purpose"),
        channel=subject.get("channel"), topic=None, product=subject.get("product"),
        document_type=subject.get("document_type"), value=value, actor="customer", surface="web", evidence={},
        recorded_at=at, effective_at=at,
    )  # fmt: skip


def _instance(n: int, status: str, step: str | None, joined: int | None = None) -> JourneyInstance:
    return JourneyInstance(
        public_id=f"j{n}", journey="open_account", profile_id=n, origin_profile_id=n, status=status,
        current_step=step, step_since=T, started_at=T, started_channel="web", last_activity_at=T,
        completed_at=T if status == "completed" else None, joined_into=joined, event_id=n,
    )  # fmt: skip


def build(engine: Engine, tmp_path: Path, config: ReportsConfig | None = None) -> Dashboards:
    """Store the world; the dashboards over it (no tile cache unless `config` says)."""
    assessment: Assessment = build_communications(engine, tmp_path)
    with unit_of_work(engine) as session:
        session.add_all([Profile(id=i, created_at=T, updated_at=T) for i in range(1, 7)])
        session.flush()
        session.get(Profile, 6).merged_into_id = 1  # type: ignore[union-attr]  # profile 6 is created above
        marketing = {"purpose": "marketing", "channel": "email"}
        session.add_all([
            _choice(1, T, "granted", **marketing),
            _choice(2, T, "granted", **marketing),
            _choice(2, T + timedelta(days=1), "denied", **marketing),
            _choice(3, T, "denied", **marketing),
            _choice(4, T, "granted", **marketing, product="MTG-3"),
            *(_choice(i, T, "electronic", document_type="statements") for i in (1, 2, 3)),
            _choice(4, T, "paper", document_type="statements"),
        ])  # fmt: skip
        session.add(
            JourneyDefinitionRow(
                key="open_account", name="Open an account", body={"steps": STEPS}, revision=1, loaded_at=T
            )
        )
        session.add_all([
            _instance(1, "completed", None), _instance(2, "completed", None), _instance(3, "abandoned", "verify"),
            _instance(4, "open", "details"), _instance(5, "joined", "details", joined=4),
        ])  # fmt: skip
    critical = report(engine, ["c1"], "recipient")
    report(engine, ["s2"], "balance")
    with unit_of_work(engine) as session:
        acknowledge(session, critical.id, actor=AGENT)
    return Dashboards(engine, assessment, Analytics(engine), config or ReportsConfig(cache_seconds=0))


def records(board: Dashboard, tile: str, table: str) -> list[dict[str, object]]:
    """A tile's table as records (the test fails naming the tile and table when the board has none)."""
    found = board.table(tile, table)
    assert found is not None, (tile, table)
    return found.records()
