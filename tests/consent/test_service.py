"""The consent ledger on SQLite and PostgreSQL: append-only versions, validation, merge and unmerge, decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from seamline.consent.config import ConsentConfig
from seamline.consent.consumer import ConsentConsumer
from seamline.consent.models import ConsentChoice
from seamline.consent.policy import Choice, Reachability
from seamline.consent.service import (
    delivery_preference_for,
    history,
    may_contact_profile,
    preferences_for,
    record_choice,
    record_from_message,
)
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput
from seamline.core.pipeline import MergeNotice, ResolvedBatch

CONFIG = ConsentConfig()
ANNA, BEN = 101, 202
T0 = datetime(2026, 1, 1, tzinfo=UTC)
CONSUMER = ConsentConsumer(CONFIG)
# Ben merged into Anna, as the pipeline tells consent of a merge made by an event.
BEN_INTO_ANNA = ResolvedBatch(
    events=(), merges=(MergeNotice(survivor=ANNA, absorbed=BEN, event_id=1, absorbed_is_new=False),)
)
REACHABLE = {"email": Reachability(True, "address on file"), "sms": Reachability(True, "mobile on file")}


def record(engine: Engine, profile_id: int, **fields: Any) -> Choice:
    """Record one choice in its own transaction, with the who and where every test shares."""
    with unit_of_work(engine) as session:
        return record_choice(session, profile_id, **{"actor": "anna", "surface": "web", "config": CONFIG, **fields})


def read_history(engine: Engine, profile_id: int) -> list[Choice]:
    with unit_of_work(engine, write=False) as session:
        return history(session, profile_id)


def row_values(engine: Engine, choice_id: int) -> dict[str, Any]:
    with unit_of_work(engine, write=False) as session:
        row = session.scalars(select(ConsentChoice).where(ConsentChoice.id == choice_id)).one()
        return {c.name: getattr(row, c.name) for c in ConsentChoice.__table__.columns}


def test_a_choice_is_recorded_with_everything_it_says(engine: Engine) -> None:
    evidence = {"text_shown": "Email me offers", "document_version": "terms-7", "ip": "198.51.100.4"}
    choice = record(
        engine,
        ANNA,
        kind="consent",
        purpose="marketing",
        channel="email",
        topic="offers",
        product="CC-9",
        value="granted",
        source_id=3,
        event_id=77,
        evidence=evidence,
        legal_basis="consent",
        effective_at=T0,
        expires_at=T0 + timedelta(days=365),
    )
    [stored] = read_history(engine, ANNA)
    assert stored == choice
    assert (stored.origin_profile_id, stored.purpose, stored.channel, stored.topic, stored.product) == (
        ANNA,
        "marketing",
        "email",
        "offers",
        "CC-9",
    )
    assert (stored.source_id, stored.event_id, stored.legal_basis) == (3, 77, "consent")
    assert stored.evidence == evidence
    assert stored.effective_at == T0
    assert stored.recorded_at.tzinfo is not None


def test_a_second_choice_is_a_new_version_and_never_changes_the_first(engine: Engine) -> None:
    first = record(engine, ANNA, kind="consent", purpose="marketing", value="granted")
    before = row_values(engine, first.id)
    second = record(engine, ANNA, kind="consent", purpose="marketing", value="denied")
    assert row_values(engine, first.id) == before
    assert [c.id for c in read_history(engine, ANNA)] == [second.id, first.id]
    assert [c.value for c in read_history(engine, ANNA)] == ["denied", "granted"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "consent", "purpose": "marketting", "value": "granted"}, "purpose"),
        ({"kind": "consent", "value": "granted"}, "purpose"),
        ({"kind": "consent", "purpose": "marketing", "channel": "fax", "value": "granted"}, "channel"),
        ({"kind": "consent", "purpose": "marketing", "topic": "gossip", "value": "granted"}, "topic"),
        ({"kind": "consent", "purpose": "marketing", "value": "paper"}, "value"),
        ({"kind": "consent", "purpose": "marketing", "value": "granted", "document_type": "notices"}, "document_type"),
        ({"kind": "delivery", "document_type": "statements", "value": "granted"}, "value"),
        ({"kind": "delivery", "document_type": "letters", "value": "paper"}, "document_type"),
        ({"kind": "delivery", "document_type": "notices", "value": "paper", "purpose": "service"}, "purpose"),
        ({"kind": "opinion", "value": "granted"}, "kind"),
        ({"kind": "consent", "purpose": "marketing", "value": "granted", "product": " "}, "product"),
        ({"kind": "consent", "purpose": "marketing", "value": "granted", "actor": ""}, "actor"),
        ({"kind": "consent", "purpose": "marketing", "value": "granted", "surface": "x" * 65}, "surface"),
        ({"kind": "consent", "purpose": "marketing", "value": "granted", "legal_basis": "vibes"}, "legal_basis"),
        (
            {"kind": "consent", "purpose": "marketing", "value": "granted", "evidence": {"ip": "300.1.1.1"}},
            "evidence.ip",
        ),
        ({"kind": "consent", "purpose": "marketing", "value": "granted", "evidence": {"n": float("nan")}}, "evidence"),
        (
            {"kind": "consent", "purpose": "marketing", "value": "granted", "effective_at": T0.replace(tzinfo=None)},
            "effective_at",
        ),
        (
            {"kind": "consent", "purpose": "marketing", "value": "granted", "effective_at": T0, "expires_at": T0},
            "expires_at",
        ),
    ],
)
def test_an_invalid_choice_names_its_field_and_records_nothing(
    engine: Engine, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        record(engine, ANNA, **fields)
    assert field in [e.field for e in raised.value.errors]
    assert read_history(engine, ANNA) == []


def anna_and_ben(engine: Engine) -> None:
    """Anna opted out of marketing and went paperless; Ben opted in and kept paper for his card."""
    record(engine, ANNA, kind="consent", purpose="marketing", value="denied", effective_at=T0)
    record(engine, ANNA, kind="delivery", document_type="statements", value="electronic", effective_at=T0)
    record(engine, BEN, kind="consent", purpose="marketing", value="granted", effective_at=T0 + timedelta(days=5))
    record(engine, BEN, kind="consent", purpose="analytics", value="denied", effective_at=T0)
    record(engine, BEN, kind="delivery", document_type="statements", value="paper", product="CC-9", effective_at=T0)


def test_move_then_restore_gives_each_side_its_exact_history_back(engine: Engine) -> None:
    anna_and_ben(engine)
    anna_before, ben_before = read_history(engine, ANNA), read_history(engine, BEN)
    with unit_of_work(engine) as session:
        CONSUMER.take(session, BEN_INTO_ANNA)
    merged = read_history(engine, ANNA)
    assert read_history(engine, BEN) == []
    assert sorted(c.id for c in merged) == sorted(c.id for c in anna_before + ben_before)
    assert {c.id: c.origin_profile_id for c in merged} == {
        **{c.id: ANNA for c in anna_before},
        **{c.id: BEN for c in ben_before},
    }
    with unit_of_work(engine) as session:
        CONSUMER.rederive(session, [ANNA, BEN])
    assert read_history(engine, ANNA) == anna_before
    assert read_history(engine, BEN) == ben_before


def test_a_merged_profile_is_decided_most_restrictively_until_unmerged(engine: Engine) -> None:
    anna_and_ben(engine)
    with unit_of_work(engine) as session:
        CONSUMER.take(session, BEN_INTO_ANNA)
        marketing = may_contact_profile(session, ANNA, "marketing", "email", reachability=REACHABLE, config=CONFIG)
        card = delivery_preference_for(session, ANNA, "statements", product="CC-9", config=CONFIG)
        checking = delivery_preference_for(session, ANNA, "statements", product="CHK-1", config=CONFIG)
        analytics = may_contact_profile(session, ANNA, "analytics", "email", reachability=REACHABLE, config=CONFIG)
    assert (marketing.allowed, marketing.conflict) == (False, True)
    assert [c.origin_profile_id for c in marketing.deciding] == [ANNA]
    assert (card.value, card.conflict) == ("paper", True)
    assert (checking.value, checking.conflict) == ("electronic", False)
    assert (analytics.allowed, analytics.conflict) == (False, False)
    with unit_of_work(engine) as session:
        CONSUMER.rederive(session, [ANNA, BEN])
        ben = may_contact_profile(session, BEN, "marketing", "email", reachability=REACHABLE, config=CONFIG)
        anna = may_contact_profile(session, ANNA, "analytics", "email", reachability=REACHABLE, config=CONFIG)
    assert (ben.allowed, ben.conflict) == (True, False)
    assert anna.allowed


def test_may_contact_profile_end_to_end(engine: Engine) -> None:
    record(engine, ANNA, kind="consent", purpose="marketing", value="granted", effective_at=T0, surface="card-app")
    opt_out = record(
        engine, ANNA, kind="consent", purpose="marketing", channel="sms", value="denied", effective_at=T0 + timedelta(1)
    )
    with unit_of_work(engine, write=False) as session:
        email = may_contact_profile(
            session, ANNA, "marketing", "email", product="MTG-3", reachability=REACHABLE, config=CONFIG
        )
        sms = may_contact_profile(session, ANNA, "marketing", "sms", reachability=REACHABLE, config=CONFIG)
        service = may_contact_profile(session, ANNA, "service", "sms", reachability=REACHABLE, config=CONFIG)
        bounced = may_contact_profile(
            session, ANNA, "service", "email", reachability={"email": Reachability(False, "bounced")}, config=CONFIG
        )
        past = may_contact_profile(
            session, ANNA, "marketing", "email", reachability=REACHABLE, config=CONFIG, now=T0 - timedelta(days=1)
        )
    assert email.allowed
    assert "via card-app" in email.reasons[0]
    assert "customer-wide" in email.reasons[0]
    assert (sms.allowed, sms.deciding) == (False, (opt_out,))
    assert service.allowed
    assert not bounced.allowed
    assert bounced.reasons[-1] == "email unreachable: bounced"
    assert not past.allowed


def test_asking_about_an_unknown_purpose_channel_or_document_is_invalid_input(engine: Engine) -> None:
    with unit_of_work(engine, write=False) as session:
        with pytest.raises(InvalidInput) as raised:
            may_contact_profile(session, ANNA, "marketting", "fax", reachability=REACHABLE, config=CONFIG)
        assert [e.field for e in raised.value.errors] == ["purpose", "channel"]
        with pytest.raises(InvalidInput) as raised:
            delivery_preference_for(session, ANNA, "letters", config=CONFIG)
        assert [e.field for e in raised.value.errors] == ["document_type"]


def test_the_paperless_story_through_the_ledger(engine: Engine) -> None:
    for document_type in CONFIG.document_types:
        record(engine, ANNA, kind="delivery", document_type=document_type, value="electronic", surface="card-app")
    record(engine, ANNA, kind="delivery", document_type="statements", value="paper", product="MTG-3")
    with unit_of_work(engine, write=False) as session:
        prefs = preferences_for(session, ANNA, ["CHK-1", "CC-9", "MTG-3", "SAV-4"], config=CONFIG)
    assert {p: d.value for p, d in prefs.delivery["statements"].items()} == {
        None: "electronic",
        "CHK-1": "electronic",
        "CC-9": "electronic",
        "MTG-3": "paper",
        "SAV-4": "electronic",
    }
    assert prefs.delivery["tax_forms"]["MTG-3"].value == "electronic"


def segment_page(categories: dict[str, bool], message_id: str) -> dict[str, Any]:
    return {
        "type": "page",
        "userId": "u-anna",
        "messageId": message_id,
        "timestamp": "2026-05-01T10:00:00Z",
        "context": {"consent": {"categoryPreferences": categories}},
    }


def test_recording_from_messages_skips_replays_and_unchanged_restatements(engine: Engine) -> None:
    consent_event = {
        "type": "track",
        "event": "Consent Updated",
        "userId": "u-anna",
        "timestamp": "2026-05-01T09:00:00Z",
        "properties": {"purpose": "marketing", "channel": "email", "value": "denied"},
    }
    with unit_of_work(engine) as session:
        first = record_from_message(session, ANNA, consent_event, source_id=1, event_id=10, config=CONFIG)
        replay = record_from_message(session, ANNA, consent_event, source_id=1, event_id=10, config=CONFIG)
        page = record_from_message(
            session, ANNA, segment_page({"Analytics": True}, "p1"), source_id=1, event_id=11, config=CONFIG
        )
        again = record_from_message(
            session, ANNA, segment_page({"Analytics": True}, "p2"), source_id=1, event_id=12, config=CONFIG
        )
        changed = record_from_message(
            session, ANNA, segment_page({"Analytics": False}, "p3"), source_id=1, event_id=13, config=CONFIG
        )
        bad = record_from_message(
            session,
            ANNA,
            {**consent_event, "properties": {"purpose": "nope", "value": "denied"}},
            source_id=1,
            event_id=14,
            config=CONFIG,
        )
    assert len(first.recorded) == 1
    assert replay.recorded == first.recorded
    assert [c.value for c in page.recorded] == ["granted"]
    assert again.recorded == ()
    assert [c.value for c in changed.recorded] == ["denied"]
    assert (bad.recorded, [e.field for e in bad.errors]) == ((), ["properties.purpose"])
    ledger = read_history(engine, ANNA)
    assert [(c.purpose, c.value, c.event_id) for c in ledger] == [
        ("analytics", "denied", 13),
        ("analytics", "granted", 11),
        ("marketing", "denied", 10),
    ]
    assert ledger[-1].source_id == 1
