"""The columnar copy catches up on what changed since the last report: new sends, new outcomes of old ones, and
trait candidates an erasure deleted."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, delete, select

from seamline.assessment import repository
from seamline.assessment.config import AssessmentConfig
from seamline.assessment.scope import Scope, scope_of
from seamline.assessment.service import Assessment
from seamline.cases.models import Case
from seamline.communications.service import ExternalCommunication, Happened, log_external, record_outcomes
from seamline.communications.service import erase_person as erase_communications
from seamline.communications.templates import Catalog
from seamline.core.db import unit_of_work
from seamline.profiles.models import ProfileEvent, TraitValue
from tests.assessment.ecosystem import T1, build

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
    [found] = assessment.redundancy()
    assert (found.asked, found.already_held, found.disagreed) == (4, 3, 1)
    with unit_of_work(engine) as session:  # mortgage-app now also collects profile 4's address, another one
        mortgage = session.scalars(select(TraitValue.source_id).where(TraitValue.profile_id == 5)).one()
        session.add(TraitValue(profile_id=4, name="address", value_json='"elsewhere"', value_hash="elsewhere",
                               source_id=mortgage, first_event_id=2, last_event_id=2, first_seen_at=LATER,
                               last_seen_at=LATER, times_seen=1))  # fmt: skip
    [found] = assessment.redundancy()
    assert (found.asked, found.already_held, found.disagreed) == (5, 4, 2)
    with unit_of_work(engine) as session:
        session.execute(delete(TraitValue).where(TraitValue.profile_id == 2))  # as an erasure does
    [found] = assessment.redundancy()
    assert (found.asked, found.already_held, found.disagreed) == (4, 3, 1)
    assert assessment.replica.marks.built_at == built  # caught up, not rebuilt


def test_the_first_report_builds_the_copy_however_long_the_machine_has_been_up(engine: Engine, tmp_path: Path) -> None:
    """Monotonic time starts at boot: a rebuild period longer than the machine's uptime must not skip the first
    build. With no template declaring a goal event nothing else forced it, and the first report failed (no
    `facts` table) on any machine up for less than the default day."""
    config = AssessmentConfig(rebuild_seconds=time.monotonic() + 86_400.0)
    assessment = Assessment(engine, Catalog(tmp_path), config)  # no template: no goal event
    assert assessment.inventory() == []
    assert assessment.bottlenecks().breaks == ()
    assert assessment.replica.marks.built_at > 0


def test_the_per_day_counts_and_the_conversions_follow_what_arrives_later(engine: Engine, tmp_path: Path) -> None:
    """Effectiveness and the bottlenecks read the copy's per-day counts and histograms and its list of messages
    that converted or were followed by a contact (rollup.py): a goal event or a case arriving after the copy was
    built counts against the earlier message, an outcome changes its day's counts and latencies, and a period of
    whole days reads the same as the messages."""
    assessment = build(engine, tmp_path, AssessmentConfig(refresh_seconds=0))
    card = {(r.channel, r.communication): r for r in assessment.effectiveness()}[("email", "card_notice")]
    assert (card.conversion_rate, card.contacts_after, card.delivery_rate) == (0.25, 1, 0.75)
    with unit_of_work(engine) as session:
        session.add_all([
            ProfileEvent(event_id=9101, profile_id=3, source_id=1, type="track", name="Card Activated",
                         occurred_at=T1 + timedelta(hours=5)),  # c3 converts now
            Case(profile_id=2, origin_profile_id=2, subject="Card?", priority="normal", status="open",
                 queue="cards", channel="chat", opened_by="agent", opened_at=T1 + timedelta(days=2),
                 updated_at=T1 + timedelta(days=2)),  # after c2 (and p2)
        ])  # fmt: skip
        record_outcomes(session, [Happened("c4", "delivered", occurred_at=T1 + timedelta(minutes=3))])
    rows = {(r.channel, r.communication): r for r in assessment.effectiveness()}
    card = rows[("email", "card_notice")]
    assert (card.conversion_rate, card.contacts_after) == (0.5, 2)
    assert card.delivery_rate == 0.75  # c4 delivered after bouncing still counts as bounced
    assert rows[("sms", "promo-x")].contacts_after == 1
    path = next(p for p in assessment.bottlenecks().paths if p.communication == "card_notice")
    assert (path.delivery_p50_seconds, path.bounced, path.contacts_after) == (600.0, 1, 2)  # of 120, 300, 900, 3600 s
    day = scope_of(since=T1.date(), until=T1.date())
    assert [r.as_record() for r in assessment.effectiveness(day)] == [
        r.as_record()
        for r in assessment.effectiveness(Scope(since=T1 - timedelta(hours=10), until=T1 + timedelta(hours=14)))
    ]
    sent = {r.communication: r.volume for r in assessment.inventory(day) if r.volume}
    assert sent == {"card_notice": 5, "promo-x": 2}


def test_an_erasure_reaches_the_copy_at_its_next_report(engine: Engine, tmp_path: Path) -> None:
    """The copy reads no personal content: of the outcomes' details only a suppression's (why a message was held;
    a bounce's may quote an address), and an erasure, which empties the details in the store, empties it in the
    copy at the next catch-up too — the fact that the message was held stays, as it does in the store."""
    assessment = build(engine, tmp_path, AssessmentConfig(refresh_seconds=0))
    card = next(p for p in assessment.bottlenecks().paths if p.communication == "card_notice")
    assert (card.held, card.held_reason) == (1, "quiet hours")  # c5, profile 5
    details = "SELECT detail FROM outcomes WHERE detail <> '' ORDER BY detail"
    assert assessment.replica.con.execute(details).fetchall() == [("quiet hours",)]  # not "550 no such user"
    with unit_of_work(engine) as session:
        erase_communications(session, [5])
    card = next(p for p in assessment.bottlenecks().paths if p.communication == "card_notice")
    assert (card.held, card.held_reason) == (1, None)
    assert assessment.replica.con.execute(details).fetchall() == []
    assert assessment.replica.con.execute("SELECT held_reason FROM facts WHERE profile_id = 5").fetchall() == [("",)]
