"""The profile card's one read (profiles/card_reads.py, `card_facts`): the same traits, in the same order, and the
same counts as survivorship over every candidate and the counts read apart — for a profile whose traits have one
candidate each, one where some have several, and one without traits (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.prepared import read_snapshot
from seamline.profiles.service import card_facts, fact_counts, golden_traits
from seamline.sources.service import source_names
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _expected(engine: Engine, settings: Settings, profile_id: int) -> tuple[dict[str, object], int, int]:
    names = source_names(engine, 0).get()
    with read_snapshot(engine) as reads:
        traits = golden_traits(reads, profile_id, names, settings.survivorship)
        holdings, events = fact_counts(reads, profile_id)
    return {t.name: t.value for t in traits}, holdings, events


def test_the_card_reads_what_survivorship_over_every_candidate_reads(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, crm = make_source(engine, "crm", "crm")
    _, web = make_source(engine, "web", "web")
    single = {"email": "ada@example.com", "first_name": "Ada", "zodiac": "sagittarius", "loyalty_tier": "gold"}
    send(client, crm, {"type": "identify", "userId": "u-ada", "traits": single, "timestamp": "2026-03-01T10:00:00Z"})
    send(client, crm, {"type": "track", "userId": "u-ada", "event": "Card Opened", "timestamp": "2026-03-01T11:00:00Z"})
    for source, name, at in ((crm, "Grace", "2026-03-01T10:00:00Z"), (web, "Gracie", "2026-03-02T10:00:00Z")):
        traits = {"first_name": name, "email": "grace@example.com", "city": "London"}
        send(client, source, {"type": "identify", "userId": "u-grace", "traits": traits, "timestamp": at})
    seen = {"type": "track", "anonymousId": "anon-1", "event": "Page Seen", "timestamp": "2026-03-03T10:00:00Z"}
    send(client, web, seen)
    drain(engine, settings)
    names = source_names(engine, 0).get()
    for identifier in ("user_id:u-ada", "user_id:u-grace", "anonymous_id:anon-1"):
        profile_id = profile_holding(engine, identifier)
        with read_snapshot(engine) as reads:
            facts = card_facts(reads, profile_id, names, settings.survivorship)
        traits, holdings, events = _expected(engine, settings, profile_id)
        assert (facts.traits, facts.holdings, facts.events) == (traits, holdings, events), identifier
        assert list(facts.traits) == list(traits), identifier  # the card's JSON lists them in this order
    ada = profile_holding(engine, "user_id:u-ada")
    with read_snapshot(engine) as reads:
        facts = card_facts(reads, ada, names, settings.survivorship)
    assert facts.traits["first_name"] == "Ada"
    assert facts.events >= 1
    grace = profile_holding(engine, "user_id:u-grace")
    with read_snapshot(engine) as reads:
        assert card_facts(reads, grace, names, settings.survivorship).traits["first_name"] in {"Grace", "Gracie"}
        assert len([t for t in golden_traits(reads, grace, names, settings.survivorship) if t.decision.alternatives])
        anonymous = card_facts(reads, profile_holding(engine, "anonymous_id:anon-1"), names, settings.survivorship)
    assert (anonymous.traits, anonymous.holdings, anonymous.events) == ({}, 0, 1)
