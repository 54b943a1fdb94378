"""The columnar copy catches up on what changed since the last report: new sends, new outcomes of old ones, and
trait candidates an erasure deleted."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, delete

from seamline.assessment import repository
from seamline.assessment.config import AssessmentConfig
from seamline.assessment.service import Assessment
from seamline.communications.service import ExternalCommunication, Happened, log_external, record_outcomes
from seamline.communications.templates import Catalog
from seamline.core.db import unit_of_work
from seamline.profiles.models import TraitValue
from tests.assessment.ecosystem import build

LATER = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_a_report_after_changes_sees_them_without_a_rebuild(engine: Engine, tmp_path: Path) -> None:
    assessment = build(engine, tmp_path, AssessmentConfig(refresh_seconds=0))
    assert {r.communication: r.volume for r in assessment.inventory()}["promo-x"] == 2
    built = assessment.replica.marks.built_at
    since = time.time()  # the ecosystem was stored before this, the changes below after
    with unit_of_work(engine) as session:
        log_external(session, [ExternalCommunication("p3", 3, "marketing", "sms", "martech", template="promo-x",
                                                     source_system="crm", occurred_at=LATER)])  # fmt: skip
        record_outcomes(session, [Happened("p3", "sent", occurred_at=LATER), Happened("p1", "failed", "carrier")])
    promo = {r.communication: r for r in assessment.inventory()}["promo-x"]
    assert (promo.volume, promo.error_rate) == (3, round(2 / 3, 4))  # p3 is new, p1 failed since
    assert assessment.replica.marks.built_at == built  # caught up, not rebuilt
    with unit_of_work(engine, write=False) as session:  # what changed is found by its time (the index's column)
        changed = repository.communications(session, changed_since=since).column("communication_id").to_pylist()
    assert sorted(changed) == ["p1", "p3"]
    with unit_of_work(engine) as session:
        session.execute(delete(TraitValue).where(TraitValue.profile_id == 2))  # as an erasure does
    [found] = assessment.redundancy()
    assert (found.asked, found.already_held, found.disagreed) == (3, 2, 0)


def test_the_first_report_builds_the_copy_however_long_the_machine_has_been_up(engine: Engine, tmp_path: Path) -> None:
    """Monotonic time starts at boot: a rebuild period longer than the machine's uptime must not skip the first
    build. With no template declaring a goal event nothing else forced it, and the first report failed (no
    `facts` table) on any machine up for less than the default day."""
    config = AssessmentConfig(rebuild_seconds=time.monotonic() + 86_400.0)
    assessment = Assessment(engine, Catalog(tmp_path), config)  # no template: no goal event
    assert assessment.inventory() == []
    assert assessment.bottlenecks().breaks == ()
    assert assessment.replica.marks.built_at > 0
