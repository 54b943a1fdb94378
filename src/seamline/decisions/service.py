"""Rules of the decision point: gather what is known of a person, arbitrate the catalog for a context, record
outcomes into the propensity model, and answer the one contact policy for the outbox and audience exports.
Services only flush; the caller's unit of work commits."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.cases.config import CasesConfig
from seamline.communications.contacts import contacts_by_profile, contacts_since
from seamline.consent.config import ConsentConfig
from seamline.core.clock import utcnow
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.prepared import Reads
from seamline.decisions import repository
from seamline.decisions.arbitration import Decision, Situation, arbitrate, default_rng
from seamline.decisions.catalog import Catalog
from seamline.decisions.config import DecisionsConfig
from seamline.decisions.contact import Contact, class_of
from seamline.decisions.person import CLOSED_HOLDINGS, Asking, Kept, engine_of, model_of, person_facts
from seamline.decisions.propensity import ACCEPTED, CONVERTED, IGNORED, OUTCOMES, SHOWN, Tally
from seamline.identity.service import active_header, profile_members
from seamline.profiles.service import golden_values, open_holding_names
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.sources.service import list_sources


@dataclass(frozen=True, slots=True)
class Setup:
    """What deciding needs, built once per process from the configuration."""

    config: DecisionsConfig
    catalog: Catalog
    consent: ConsentConfig
    survivorship: SurvivorshipConfig
    cases: CasesConfig
    kept: Kept = field(default_factory=Kept, compare=False)
    channels: frozenset[str] = frozenset()  # every channel a decision may be asked for
    product_names: Mapping[str, frozenset[str]] = field(default_factory=dict)  # a product → every name it goes by
    asking: dict[str, Asking] = field(default_factory=dict, compare=False)  # by channel: see person.asking_in

    @classmethod
    def build(
        cls, config: DecisionsConfig, consent: ConsentConfig, survivorship: SurvivorshipConfig, cases: CasesConfig
    ) -> Setup:
        """Load the catalog (CatalogError names every bad file) and keep the settings beside it."""
        catalog = _catalog(config.catalog_dir)
        channels = frozenset({c for a in catalog.actions for c in a.channels} | set(consent.channels))
        names = {product: config.names_of(product) for product in catalog.products}
        return cls(config, catalog, consent, survivorship, cases, Kept(), channels, names)

    @classmethod
    def default(cls, consent: ConsentConfig) -> Setup:
        return cls.build(DecisionsConfig(), consent, SurvivorshipConfig(), CasesConfig())


@functools.lru_cache(maxsize=8)
def _catalog(folder: Path) -> Catalog:
    # Every process builds several pipelines from one configuration: one load per folder (a reload is a restart).
    return Catalog(folder)


def _longest_window(config: DecisionsConfig) -> float:
    return max([c.window_days for c in [*config.caps, *config.service_caps]] or [0.0])


def traits_of(
    session: Session, members: Sequence[int], names: set[str], survivorship: SurvivorshipConfig
) -> dict[str, Any]:
    """The winning values of these traits across a person's profiles (the root's first)."""
    sources = {s.id: s.name for s in list_sources(session)}
    found = golden_values(session, sorted(names), sources, survivorship, list(members))
    merged: dict[str, Any] = {}
    for profile_id in members:  # the root is first: its values win over an absorbed profile's leftovers
        for name, value in found.get(profile_id, {}).items():
            merged.setdefault(name, value)
    return merged


def contacts_of(session: Session, members: Sequence[int], config: DecisionsConfig, now: datetime) -> list[Contact]:
    since = now - timedelta(days=_longest_window(config))
    return [Contact(at, class_of(p, t, u)) for at, p, t, u in contacts_since(session, members, since)]


def contacts_of_people(
    session: Session, members: Mapping[int, Sequence[int]], config: DecisionsConfig, now: datetime
) -> dict[int, list[Contact]]:
    """`contacts_of` for many people (each person's profiles by person) in one read."""
    since = now - timedelta(days=_longest_window(config))
    found = contacts_by_profile(session, [m for ms in members.values() for m in ms], since)
    return {
        person: [Contact(at, class_of(p, t, u)) for m in ms for at, p, t, u in found.get(m, [])]
        for person, ms in members.items()
    }


def traits_of_people(
    session: Session, members: Mapping[int, Sequence[int]], names: set[str], survivorship: SurvivorshipConfig
) -> dict[int, dict[str, Any]]:
    """`traits_of` for many people (each person's profiles by person) in one read of sources and traits."""
    sources = {s.id: s.name for s in list_sources(session)}
    found = golden_values(session, sorted(names), sources, survivorship, [m for ms in members.values() for m in ms])
    out: dict[int, dict[str, Any]] = {}
    for person, ms in members.items():
        merged: dict[str, Any] = {}
        for profile_id in ms:  # the root is first: its values win over an absorbed profile's leftovers
            for name, value in found.get(profile_id, {}).items():
                merged.setdefault(name, value)
        out[person] = merged
    return out


def held_products(session: Session, root: int) -> frozenset[str]:
    """The names of every product a person holds open, in any silo (holding types and their product types)."""
    return open_holding_names(session, root, CLOSED_HOLDINGS)


# Not frozen: a batch of decisions builds one a person, and a frozen dataclass's __init__ costs ~3x a plain one's.
@dataclass(slots=True)
class Decided:
    profile_id: int
    segment: str
    decision: Decision
    locate: Callable[[], ZoneInfo]  # the person's time zone, worked out when asked

    @property
    def timezone(self) -> str:
        return self.locate().key


def check_channel(situation: Situation, setup: Setup) -> None:
    """InvalidInput naming `context.channel` when no action or consent channel is called that."""
    if situation.channel not in setup.channels:
        choices = ", ".join(sorted(setup.channels))
        raise InvalidInput([FieldError("context.channel", "invalid", f"use one of: {choices}")], "unknown channel")


def decide(
    reads: Reads,
    profile_id: int,
    situation: Situation,
    setup: Setup,
    *,
    engine: Engine | None = None,
    limit: int | None = None,
    rng: np.random.Generator | None = None,
    now: datetime | None = None,
) -> Decided:
    """The next best actions for a person in a context, and why every other action was not chosen. `reads` is a
    unit of work's session or a read snapshot (then `engine` names the database it reads, for what is kept)."""
    check_channel(situation, setup)
    now = now or utcnow()
    if engine is None:
        if not isinstance(reads, Session):
            raise TypeError("a decision on a read snapshot names its engine")
        engine = engine_of(reads)
    root, person = person_facts(reads, engine, profile_id, situation.channel, setup, now)
    model = model_of(reads, engine, setup.catalog, person.segment, setup.kept)
    decision = arbitrate(
        setup.catalog, person, situation, model, setup.config, rng or default_rng(), limit or setup.config.max_actions
    )
    return Decided(root, person.segment, decision, person.locate)


@dataclass(frozen=True, slots=True)
class OutcomeInput:
    """An outcome of an action for a person (by profile id)."""

    profile_id: int
    action: str
    outcome: str
    channel: str | None = None
    origin: str = "api"
    actor: str | None = None
    occurred_at: datetime | None = None
    event_id: int | None = None


def record_outcomes(session: Session, items: Sequence[OutcomeInput], setup: Setup) -> int:
    """Log outcomes and add them to the propensity model of each person's segment; returns how many were new.
    InvalidInput names the item (by index) with an unknown action or outcome."""
    errors = []
    for index, item in enumerate(items):
        if item.action not in setup.catalog.by_name:
            errors.append(FieldError("action", "unknown", f"no action {item.action!r} in the catalog", index))
        if item.outcome not in OUTCOMES:
            errors.append(FieldError("outcome", "invalid", f"use one of: {', '.join(OUTCOMES)}", index))
    if errors:
        raise InvalidInput(errors, "the outcomes are not valid")
    seen = repository.seen_outcome_events(session, [i.event_id for i in items if i.event_id is not None])
    items = [i for i in items if i.event_id is None or i.event_id not in seen]
    now = utcnow()
    rows: list[dict[str, Any]] = []
    counts: dict[tuple[str, str], dict[str, int]] = {}
    segment_trait = setup.config.segment_trait
    for item in items:
        root = int(active_header(session, item.profile_id).id)
        traits = traits_of(session, [root], {segment_trait}, setup.survivorship)
        segment = str(traits.get(segment_trait) or "all")[:64]
        rows.append(
            {
                "profile_id": root, "action": item.action, "outcome": item.outcome, "segment": segment,
                "channel": item.channel, "origin": item.origin, "actor": item.actor, "event_id": item.event_id,
                "occurred_at": item.occurred_at or now,
            }
        )  # fmt: skip
        tally = counts.setdefault((item.action, segment), {})
        tally[item.outcome] = tally.get(item.outcome, 0) + 1
    repository.add_outcomes(session, rows)
    repository.bump_tallies(session, counts, now)
    return len(rows)


@dataclass(frozen=True, slots=True)
class ModelRow:
    """The propensity model's state for an action in a segment, with its posterior mean."""

    action: str
    segment: str
    shown: int
    accepted: int
    ignored: int
    converted: int
    alpha: float
    beta: float
    mean: float


def model_state(session: Session, catalog: Catalog, segment: str | None = None) -> list[ModelRow]:
    """Each action's Beta-Bernoulli state per segment (actions with no outcome yet show their prior)."""
    out = []
    seen = set()
    for t in repository.tallies(session, segment):
        action = catalog.by_name.get(t.action)
        prior = action.prior if action else (1.0, 1.0)
        tally = Tally(t.shown, t.accepted, t.ignored, t.converted)
        alpha, beta = tally.posterior(prior)
        out.append(ModelRow(t.action, t.segment, *(t.shown, t.accepted, t.ignored, t.converted), alpha, beta,
                            round(tally.mean(prior), 4)))  # fmt: skip
        seen.add(t.action)
    for action in catalog.actions:
        if action.name not in seen and segment in (None, "all"):
            alpha, beta = action.prior
            out.append(ModelRow(action.name, "all", 0, 0, 0, 0, alpha, beta, round(alpha / (alpha + beta), 4)))
    return out


def outcomes_of(session: Session, profile_id: int, *, limit: int = 20) -> list[OutcomeInput]:
    """A person's latest action outcomes, newest first."""
    root = int(active_header(session, profile_id).id)
    return [
        OutcomeInput(r.profile_id, r.action, r.outcome, r.channel, r.origin, r.actor, r.occurred_at, r.event_id)
        for r in repository.outcomes_of(session, profile_members(session, root), limit)
    ]


__all__ = ["ACCEPTED", "CONVERTED", "IGNORED", "SHOWN", "Setup", "Situation"]
