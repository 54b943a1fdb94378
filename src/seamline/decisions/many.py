"""Decisions for many people at once (a campaign's audience, a nightly list of next best actions, a channel's
batch): everyone's facts in a few set queries — roots and merged profiles, traits, purchases and last showings,
open holdings, consent choices, active cases, the communications log — instead of a handful of statements per
person, then everyone arbitrated together on the same compiled plan (people who share their survivors are drawn
for in one matrix). Open journeys, read only when the catalog asks, are one set read too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from seamline.cases.service import active_cases_counts
from seamline.communications.contacts import contacts_by_profile
from seamline.consent.service import contact_allowed_of
from seamline.core.clock import utcnow
from seamline.decisions import repository
from seamline.decisions.arbitration import OUTBOUND, Person, Situation, arbitrate_many, default_rng
from seamline.decisions.conditions import Facts
from seamline.decisions.person import (
    CLOSED_HOLDINGS,
    budget_since,
    consent_asks,
    consent_pairs,
    engine_of,
    model_of,
    person_of,
)
from seamline.decisions.plan import Model
from seamline.decisions.service import Decided, Setup, check_channel
from seamline.identity.service import people_of
from seamline.journeys.service import open_journeys_of
from seamline.profiles.service import open_holding_names_of, winning_values


def people_facts(
    session: Session, profile_ids: Sequence[int], channel: str, setup: Setup, now: datetime
) -> tuple[dict[int, int], dict[int, Person]]:
    """(the live person each asked profile belongs to, what arbitration reads of each of those people); erased and
    unknown people are left out of both."""
    config, catalog = setup.config, setup.catalog
    roots, members = people_of(session, profile_ids)
    every = [m for ms in members.values() for m in ms]
    names = {*catalog.traits_read, config.timezone_trait, config.phone_trait, config.segment_trait}
    found = winning_values(session, sorted(names), setup.kept.sources(engine_of(session)), setup.survivorship, every)
    since = now - timedelta(days=max(config.purchase_window_days, 365))
    bought, last_shown = repository.own_facts_of(session, every, since)
    logged = contacts_by_profile(session, every, budget_since(config, now)) if channel in OUTBOUND else {}
    people = list(members)
    holdings = open_holding_names_of(session, people, CLOSED_HOLDINGS)
    cases = active_cases_counts(session, people) if catalog.reads_cases else {}
    journeys = open_journeys_of(session, people) if catalog.reads_journeys else {}
    asks = consent_asks(consent_pairs(catalog, channel), setup.consent)  # (purpose, channel) → the policy's question
    questions = sorted({ask for ask in asks.values() if ask is not None})
    allowed = contact_allowed_of(session, people, questions, config=setup.consent, now=now)
    # Most people share their consent answers: one mapping for each set of answers, not one a person.
    shared: dict[tuple[bool, ...], dict[tuple[str, str], bool]] = {}
    none: Mapping[str, Any] = MappingProxyType({})  # shared by everyone without such values: read-only
    out: dict[int, Person] = {}
    for root, ms in members.items():
        if len(ms) == 1:  # most people are one profile: their facts are that profile's as read
            traits = found.get(root, none)
            purchases: Sequence[tuple[str, datetime]] = bought.get(root, ())
            shown: Mapping[str, datetime] = last_shown.get(root, none)
            contacts: Sequence[tuple[datetime, str | None, str, str | None]] = logged.get(root, ())
        else:
            traits, purchases, shown, contacts = _gathered(ms, found, bought, last_shown, logged)
        answers = allowed[root]
        key = tuple([answers[ask] for ask in questions])
        consents = shared.get(key)
        if consents is None:
            consents = shared[key] = {pair: ask is not None and answers[ask] for pair, ask in asks.items()}
        facts = Facts(
            traits, holdings[root], purchases, cases.get(root, 0), consents, now, channel, setup.product_names,
            journeys.get(root, none), {},
        )  # fmt: skip
        out[root] = person_of(facts, contacts, shown, setup)
    return roots, out


def _gathered(
    members: Sequence[int],
    found: Mapping[int, Mapping[str, Any]],
    bought: Mapping[int, Sequence[tuple[str, datetime]]],
    last_shown: Mapping[int, Mapping[str, datetime]],
    logged: Mapping[int, Sequence[tuple[datetime, str | None, str, str | None]]],
) -> tuple[
    dict[str, Any], list[tuple[str, datetime]], dict[str, datetime], list[tuple[datetime, str | None, str, str | None]]
]:
    """A merged person's facts from their profiles' (traits, purchases, last showings, messages)."""
    traits: dict[str, Any] = {}
    purchases: list[tuple[str, datetime]] = []
    shown: dict[str, datetime] = {}
    contacts: list[tuple[datetime, str | None, str, str | None]] = []
    for member in members:  # the root is first: its values win over an absorbed profile's leftovers
        for name, value in found.get(member, {}).items():
            traits.setdefault(name, value)
        purchases += bought.get(member, ())
        for action, at in last_shown.get(member, {}).items():
            shown[action] = max(at, shown.get(action, at))
        contacts += logged.get(member, ())
    return traits, purchases, shown, contacts


def decide_many(
    session: Session,
    profile_ids: Sequence[int],
    situation: Situation,
    setup: Setup,
    *,
    limit: int | None = None,
    rng: np.random.Generator | None = None,
    now: datetime | None = None,
) -> dict[int, Decided]:
    """The next best actions for each of these people in one context, by the profile id asked (erased and unknown
    people are left out): the same answers `decide` gives one by one, read in a few set queries."""
    check_channel(situation, setup)
    now = now or utcnow()
    rng = rng or default_rng()
    engine, top = engine_of(session), limit or setup.config.max_actions
    roots, people = people_facts(session, profile_ids, situation.channel, setup, now)
    models: dict[str, Model] = {}
    for person in people.values():
        if person.segment not in models:
            models[person.segment] = model_of(session, engine, setup.catalog, person.segment, setup.kept)
    everyone = list(people.values())
    decisions = arbitrate_many(
        setup.catalog, everyone, situation, [models[p.segment] for p in everyone], setup.config, rng, top
    )
    decided = {
        root: Decided(root, person.segment, decision, person.locate)
        for (root, person), decision in zip(people.items(), decisions, strict=True)
    }
    return {asked: decided[root] for asked, root in roots.items() if root in decided}
