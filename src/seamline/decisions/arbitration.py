"""Arbitration, pure: every action of the catalog passes eligibility (its conditions), then applicability to the
context (channel, placement, journey, case, dates), then suitability (the contact policy, consent, cool-down); the
survivors are ranked by propensity x value x context weight x business lever, highest priority class first. Every
action not chosen says which stage and rule stopped it."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from seamline.decisions.catalog import Action, Catalog
from seamline.decisions.conditions import Facts
from seamline.decisions.config import DecisionsConfig
from seamline.decisions.contact import (
    MARKETING,
    Contact,
    budget_verdict,
    product_suppression,
    quiet_verdict,
)
from seamline.decisions.propensity import Tally, sample

# Channels that interrupt a person: quiet hours and the fatigue budget apply to them; a placement on a page or
# in the app (the person came to us) is not a message.
OUTBOUND = frozenset({"email", "sms", "push", "phone", "postal"})
ELIGIBILITY, APPLICABILITY, SUITABILITY = "eligibility", "applicability", "suitability"


@dataclass(frozen=True, slots=True)
class Situation:
    """Where the decision is asked: the channel and, optionally, placement, journey and case."""

    channel: str
    placement: str | None = None
    journey: str | None = None
    case: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """The facts the conditions read, and what the contact policy needs besides."""

    facts: Facts
    zone: ZoneInfo
    contacts: Sequence[Contact] = ()
    last_shown: Mapping[str, datetime] = field(default_factory=dict)  # action → last time it was shown or taken
    segment: str = "all"


@dataclass(frozen=True, slots=True)
class Ranked:
    action: Action
    score: float
    propensity: float
    weight: float
    lever: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Stopped:
    action: Action
    stage: str
    rule: str
    reason: str
    hold_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    ranked: tuple[Ranked, ...]
    stopped: tuple[Stopped, ...]


def _applicability(action: Action, situation: Situation, now: datetime) -> tuple[str, str] | None:
    if situation.channel not in action.channels:
        return "channel", f"not offered on {situation.channel} (only {', '.join(action.channels)})"
    if action.placements and situation.placement not in action.placements:
        return "placement", f"not for placement {situation.placement or '(none)'} (only {', '.join(action.placements)})"
    if action.journeys and situation.journey not in action.journeys:
        return "journey", f"only within the journeys {', '.join(action.journeys)}"
    if action.requires_case is True and situation.case is None:
        return "case", "only while a case is open in the context"
    if action.requires_case is False and situation.case is not None:
        return "case", "not while handling a case"
    if action.starts is not None and now < _aware(action.starts):
        return "not_started", f"starts {action.starts:%Y-%m-%d}"
    if action.expires is not None and now >= _aware(action.expires):
        return "expired", f"expired {action.expires:%Y-%m-%d}"
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo("UTC"))


def suitability(
    action: Action, person: Person, situation: Situation, config: DecisionsConfig, contacts: Sequence[Contact]
) -> Stopped | None:
    """The contact policy, consent and cool-down for one action (also what the outbox asks, through the service)."""
    facts = person.facts
    if action.priority == MARKETING:
        names = facts.names(action.product) if action.product else frozenset()
        verdict = product_suppression(
            action.product, names, facts.holdings, facts.purchases, facts.now, config.purchase_window_days
        )
        if verdict is not None:
            return Stopped(action, SUITABILITY, verdict.rule, verdict.reason)
    if action.priority != "critical" and not facts.consents.get((action.purpose, situation.channel), False):
        return Stopped(action, SUITABILITY, "consent", f"no consent to {action.purpose} by {situation.channel}")
    if situation.channel in OUTBOUND:
        verdict = budget_verdict(action.priority, contacts, config.caps, config.service_caps, facts.now)
        if verdict is None:
            verdict = quiet_verdict(action.priority, facts.now, person.zone, config.quiet_start, config.quiet_end)
        if verdict is not None:
            return Stopped(action, SUITABILITY, verdict.rule, verdict.reason, verdict.hold_until)
    last = person.last_shown.get(action.name)
    if action.cooldown_days and last is not None and facts.now - last < timedelta(days=action.cooldown_days):
        return Stopped(
            action, SUITABILITY, "cooldown", f"shown {last:%Y-%m-%d}; cool-down {action.cooldown_days:g} days"
        )
    return None


def arbitrate(
    catalog: Catalog,
    person: Person,
    situation: Situation,
    tallies: Mapping[str, Tally],
    config: DecisionsConfig,
    rng: random.Random,
    limit: int,
) -> Decision:
    """Rank the catalog's actions for a person in a situation; `limit` chosen, the rest stopped with their rule."""
    facts = person.facts
    scored: list[tuple[int, float, str, Action, float, float, float]] = []
    stopped: list[Stopped] = []
    place = f"{situation.channel}:{situation.placement}" if situation.placement else situation.channel
    context_weight = config.context_weights.get(place, config.context_weights.get(situation.channel, 1.0))
    levers = config.levers
    for action in catalog.actions:
        failure = action.eligibility.failure(facts)
        if failure is not None:
            stopped.append(Stopped(action, ELIGIBILITY, "eligibility", failure))
            continue
        inapplicable = _applicability(action, situation, facts.now)
        if inapplicable is not None:
            stopped.append(Stopped(action, APPLICABILITY, *inapplicable))
            continue
        unsuitable = suitability(action, person, situation, config, person.contacts)
        if unsuitable is not None:
            stopped.append(unsuitable)
            continue
        propensity = sample(tallies.get(action.name, _NONE), action.prior, rng)
        weight = context_weight * action.weights.get(place, action.weights.get(situation.channel, 1.0))
        lever = levers.get(action.name, levers.get(action.priority, 1.0)) if levers else 1.0
        score = propensity * action.value * weight * lever
        scored.append((action.rank_of_priority, -score, action.name, action, propensity, weight, lever))
    scored.sort(key=lambda item: item[:3])
    # Reasons in words only for the chosen: most actions are not, and words cost more than arithmetic.
    chosen = [
        Ranked(action, -neg, propensity, weight, lever, _reasons(action, person, tallies, -neg, propensity, weight,
               lever))
        for _rank, neg, _name, action, propensity, weight, lever in scored[:limit]
    ]  # fmt: skip
    for _rank, neg, _name, action, *_rest in scored[limit:]:
        stopped.append(Stopped(action, "ranking", "ranked_out", f"ranked below the top {limit} (score {-neg:.3f})"))
    return Decision(tuple(chosen), tuple(stopped))


_NONE = Tally()


def _reasons(
    action: Action,
    person: Person,
    tallies: Mapping[str, Tally],
    score: float,
    propensity: float,
    weight: float,
    lever: float,
) -> tuple[str, ...]:
    alpha, beta = tallies.get(action.name, _NONE).posterior(action.prior)
    return (
        f"eligible: {action.eligibility.text}" if action.eligibility.text else "eligible: no conditions",
        f"{action.priority} priority",
        f"propensity {propensity:.3f} (Beta({alpha:g}, {beta:g}) in segment {person.segment})",
        f"score {score:.3f} = propensity x value {action.value:g} x weight {weight:g} x lever {lever:g}",
    )  # fmt: skip
