"""Arbitration, pure: every action of the catalog passes eligibility (its conditions), then applicability to the
context (channel, placement, journey, case, dates), then suitability (the contact policy, consent, cool-down); the
survivors are ranked by propensity x value x context weight x business lever, highest priority class first. Every
action not chosen says which stage and rule stopped it. The stages run over all actions at once on the catalog's
compiled plan (decisions/plan.py); the per-action functions here only put a stopped action's reason in words."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from seamline.decisions.catalog import PRIORITIES, Action, Catalog
from seamline.decisions.conditions import Facts
from seamline.decisions.config import DecisionsConfig
from seamline.decisions.contact import (
    Contact,
    Verdict,
    budget_verdict,
    product_suppression,
    quiet_verdict,
)
from seamline.decisions.plan import Floats, Ints, Mask, Model, Plan, plan_of
from seamline.decisions.propensity import Tally

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


# Not frozen: a batch of decisions builds one a person, and a frozen dataclass's __init__ costs ~3x a plain one's.
@dataclass(slots=True)
class Person:
    """The facts the conditions read, and what the contact policy needs besides."""

    facts: Facts
    # The person's time zone, worked out when first asked (quiet hours, the answer): from a phone number it costs
    # phonenumbers' parse and number type, more than the rest of a decision's Python.
    locate: Callable[[], ZoneInfo]
    contacts: Sequence[Contact] = ()
    last_shown: Mapping[str, datetime] = field(default_factory=dict)  # action → last time it was shown or taken
    segment: str = "all"

    @property
    def zone(self) -> ZoneInfo:
        return self.locate()


class Ranked(NamedTuple):  # a tuple: a batch makes three a person, and a frozen dataclass costs ~3x to build
    action: Action
    score: float
    propensity: float
    weight: float
    lever: float
    posterior: tuple[float, float]  # the Beta the propensity was drawn from
    segment: str

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it was chosen, in words (written when asked: the arithmetic does not need them)."""
        action, (alpha, beta) = self.action, self.posterior
        return (
            f"eligible: {action.eligibility.text}" if action.eligibility.text else "eligible: no conditions",
            f"{action.priority} priority",
            f"propensity {self.propensity:.3f} (Beta({alpha:g}, {beta:g}) in segment {self.segment})",
            f"score {self.score:.3f} = propensity x value {action.value:g} x weight {self.weight:g} x lever "
            f"{self.lever:g}",
        )


class Stopped(NamedTuple):  # a tuple: a decision makes ~200 of them, and a frozen dataclass costs ~10x to build
    action: Action
    stage: str
    rule: str
    reason: str
    hold_until: datetime | None = None


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


def _inapplicable(action: Action, situation: Situation, now: datetime) -> Stopped:
    # One Stopped per action and context, kept by the plan and shared by everyone asking there.
    rule, reason = _applicability(action, situation, now) or ("applicability", "")
    return Stopped(action, APPLICABILITY, rule, reason)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo("UTC"))


class _Policy:
    """The contact policy's verdicts for one decision, each asked once per product, purpose or priority class and
    spread over the actions by index; also the words for an action it stopped."""

    def __init__(self, plan: Plan, person: Person, situation: Situation, config: DecisionsConfig) -> None:
        facts, self.channel = person.facts, situation.channel
        # Most people hold few products and bought none lately: only a product they hold or bought is asked about.
        held = {name for name, _at in facts.purchases} | facts.holdings
        self.products = [
            None if held.isdisjoint(names) else product_suppression(
                p, names, facts.holdings, facts.purchases, facts.now, config.purchase_window_days
            )
            for p, names in zip(plan.products, plan.product_names(facts), strict=True)
        ]  # fmt: skip
        self.consents = [bool(facts.consents.get((p, situation.channel), False)) for p in plan.purposes]
        self.classes: list[Verdict | None] = [None] * len(PRIORITIES)
        if situation.channel in OUTBOUND:
            for rank, klass in enumerate(PRIORITIES):
                verdict = budget_verdict(klass, person.contacts, config.caps, config.service_caps, facts.now)
                if verdict is None and config.quiet_start is not None and config.quiet_end is not None:
                    verdict = quiet_verdict(klass, facts.now, person.zone, config.quiet_start, config.quiet_end)
                self.classes[rank] = verdict
        self.cooling: dict[int, datetime] = {}
        for name, last in person.last_shown.items():
            index = plan.index.get(name)
            if index is not None and plan.cooldown[index] and facts.now - last < timedelta(days=plan.cooldown[index]):
                self.cooling[index] = last
        # What the mask depends on: people with the same key share it.
        self.key = (
            tuple([v is not None for v in self.products]), tuple(self.consents),
            tuple([v is not None for v in self.classes]),
        )  # fmt: skip

    @staticmethod
    def sharing(person: Person, situation: Situation) -> tuple[Any, ...] | None:
        """What the verdicts depend on when they are the same for everyone with these facts (no messages to count,
        no showings to cool down from, no time zone asked: not an outbound channel); None when they are the
        person's own. A batch asks once per key: most of its people hold the same products and gave the same
        consent answers."""
        if person.last_shown or situation.channel in OUTBOUND:
            return None
        facts = person.facts
        return facts.holdings, tuple(facts.purchases), id(facts.consents), id(facts.products), facts.now

    def mask(self, plan: Plan) -> Mask:
        """Which actions the policy lets through (cool-downs aside: they are per person)."""
        ok: Mask = np.array(self.consents, dtype=np.bool_)[plan.purpose_of] | plan.is_critical
        if any(v is not None for v in self.products):
            ok &= ~np.array([v is not None for v in self.products] + [False], dtype=np.bool_)[plan.product_of]
        if any(v is not None for v in self.classes):
            ok &= ~np.array([v is not None for v in self.classes], dtype=np.bool_)[plan.priority]
        return ok

    def stopped(self, plan: Plan, index: int) -> Stopped:
        """Why the policy stopped an action, in the order the rules are asked."""
        action = plan.actions[index]
        product = int(plan.product_of[index])
        if product >= 0 and (verdict := self.products[product]) is not None:
            return Stopped(action, SUITABILITY, verdict.rule, verdict.reason)
        if action.priority != "critical" and not self.consents[int(plan.purpose_of[index])]:
            return Stopped(action, SUITABILITY, "consent", f"no consent to {action.purpose} by {self.channel}")
        if (verdict := self.classes[int(plan.priority[index])]) is not None:
            return Stopped(action, SUITABILITY, verdict.rule, verdict.reason, verdict.hold_until)
        last = self.cooling[index]
        reason = f"shown {last:%Y-%m-%d}; cool-down {action.cooldown_days:g} days"
        return Stopped(action, SUITABILITY, "cooldown", reason)


class Decision:
    """The chosen actions, ranked with their reasons; `stopped` says why each other action was not chosen, worked
    out in words only when asked (most callers want the top actions, and words cost more than the arithmetic)."""

    __slots__ = ("_explain", "_stopped", "ranked")

    def __init__(self, ranked: tuple[Ranked, ...], explain: Callable[[], tuple[Stopped, ...]]) -> None:
        self.ranked = ranked
        self._explain = explain
        self._stopped: tuple[Stopped, ...] | None = None

    @property
    def stopped(self) -> tuple[Stopped, ...]:
        if self._stopped is None:
            self._stopped = self._explain()
        return self._stopped


_RNG = threading.local()
_NO_FLOATS: Floats = np.zeros(0)
_NO_INTS: Ints = np.zeros(0, dtype=np.intp)


def default_rng() -> np.random.Generator:
    """One random generator per thread (a numpy Generator is not safe to share between threads)."""
    rng: np.random.Generator | None = getattr(_RNG, "rng", None)
    if rng is None:
        rng = _RNG.rng = np.random.default_rng()
    return rng


class _Context(NamedTuple):
    """What a context weighs every action by, the same for everyone asking in it."""

    place: str
    weight: float  # the context's own weight (one factor for every action)
    weights: Floats  # each action's own weight in the context
    levers: Floats | None
    worth: Floats  # value x weight x lever


def _context(plan: Plan, situation: Situation, config: DecisionsConfig) -> _Context:
    place = f"{situation.channel}:{situation.placement}" if situation.placement else situation.channel
    context_weight = config.context_weights.get(place, config.context_weights.get(situation.channel, 1.0))
    weights = plan.weights(place, situation.channel)  # each action's own (the context's is one factor for all)
    levers = plan.levers(config.levers) if config.levers else None
    worth = plan.worth(place, situation.channel, context_weight, levers)  # value x weight x lever
    return _Context(place, context_weight, weights, levers, worth)


class _Survivors(NamedTuple):
    """One person's pass through the stages: the masks, the survivors in priority order and the policy's verdicts."""

    eligible: Mask
    applicable: Mask
    suitable: Mask
    survivors: Ints
    policy: _Policy


def _survivors(
    plan: Plan, person: Person, situation: Situation, config: DecisionsConfig, policy: _Policy | None = None
) -> _Survivors:
    facts = person.facts
    policy = policy or _Policy(plan, person, situation, config)
    eligible, applicable, suitable, survivors = plan.stages(
        plan.tree.bits(facts), (situation.channel, situation.placement, situation.journey, situation.case is not None),
        policy.key, policy.mask, facts.now,
    )  # fmt: skip
    if policy.cooling:
        survivors = survivors[~np.isin(survivors, list(policy.cooling))]
    return _Survivors(eligible, applicable, suitable, survivors, policy)


def _drawn(model: Model, worth: Floats, rng: np.random.Generator, indices: Ints) -> tuple[Floats, Floats]:
    # Thompson sampling: one draw of each action's acceptance rate from its Beta posterior, all at once.
    propensity: Floats = rng.beta(model.alpha[indices], model.beta[indices])
    return propensity, propensity * worth[indices]


def _chosen(
    plan: Plan, picked: Ints, score: Floats, propensity: Floats, context: _Context, model: Model, segment: str
) -> list[tuple[Ranked, ...]]:
    """The chosen actions of each row (a person) of these arrays, ranked: numpy scalars are slow to read one by one,
    so everything leaves as lists, a whole group's at once."""
    weights = (context.weights[picked] * context.weight).tolist()
    levers = [[1.0] * picked.shape[-1]] * len(picked) if context.levers is None else context.levers[picked].tolist()
    actions, make = plan.actions, Ranked._make
    return [
        tuple(
            make((actions[index], score_, propensity_, weight, lever, (alpha, beta), segment))
            for index, score_, propensity_, weight, lever, alpha, beta in zip(
                *row, strict=True
            )
        )
        for row in zip(
            picked.tolist(), score.tolist(), propensity.tolist(), weights, levers, model.alpha[picked].tolist(),
            model.beta[picked].tolist(), strict=True,
        )
    ]  # fmt: skip


def _explainer(
    plan: Plan, situation: Situation, facts: Facts, passed: _Survivors, head: Ints, score: Floats, order: Ints,
    limit: int, draw: Callable[[Ints], tuple[Floats, Floats]],
) -> Callable[[], tuple[Stopped, ...]]:  # fmt: skip
    """Why each action was not chosen, in words, worked out when asked."""
    eligible, applicable, suitable, survivors, policy = passed

    def explain() -> tuple[Stopped, ...]:
        stopped: list[Stopped] = []
        is_eligible, is_applicable = eligible.tolist(), applicable.tolist()
        inapplicable = plan.inapplicable(situation, _inapplicable)
        for index in np.flatnonzero(~(eligible & applicable & suitable)).tolist():
            action = plan.actions[index]
            if not is_eligible[index]:
                stopped.append(Stopped(action, ELIGIBILITY, "eligibility", action.eligibility.failure(facts) or ""))
            elif not is_applicable[index]:
                stopped.append(inapplicable(index, facts.now))
            else:
                stopped.append(policy.stopped(plan, index))
        for index in sorted(policy.cooling):
            if is_eligible[index] and is_applicable[index] and suitable[index]:
                stopped.append(policy.stopped(plan, index))
        tail = survivors[len(head) :]
        _tail_propensity, tail_score = draw(tail)
        tail_order = np.lexsort((plan.name_rank[tail], -tail_score, plan.priority[tail]))
        rest = order[limit:]
        indices = [*head[rest].tolist(), *tail[tail_order].tolist()]
        ranked_out = zip(indices, [*score[rest].tolist(), *tail_score[tail_order].tolist()], strict=True)
        for index, value in ranked_out:
            reason = f"ranked below the top {limit} (score {value:.3f})"
            stopped.append(Stopped(plan.actions[index], "ranking", "ranked_out", reason))
        return tuple(stopped)

    return explain


def arbitrate(
    catalog: Catalog,
    person: Person,
    situation: Situation,
    model: Model | Mapping[str, Tally],
    config: DecisionsConfig,
    rng: np.random.Generator,
    limit: int,
) -> Decision:
    """Rank the catalog's actions for a person in a situation; `limit` chosen, the rest stopped with their rule."""
    plan = plan_of(catalog)
    if not isinstance(model, Model):
        model = Model.of(plan, model)
    context = _context(plan, situation, config)
    passed = _survivors(plan, person, situation, config)
    survivors = passed.survivors

    def draw(indices: Ints) -> tuple[Floats, Floats]:
        return _drawn(model, context.worth, rng, indices)

    # Survivors come in priority order; a lower class can only rank below a higher one, so actions are drawn for
    # class after class until `limit` are in hand (the rest are drawn only if their reasons are asked for).
    head = survivors[: plan.enough(survivors, limit)]
    if not len(head):  # nothing survived: numpy's draw, sort and take on empty arrays cost ~15 µs for nothing
        explain = _explainer(plan, situation, person.facts, passed, head, _NO_FLOATS, _NO_INTS, limit, draw)
        return Decision((), explain)
    propensity, score = draw(head)
    order = np.lexsort((plan.name_rank[head], -score, plan.priority[head]))
    top = order[:limit]
    (chosen,) = _chosen(plan, head[top][None], score[top][None], propensity[top][None], context, model, person.segment)
    return Decision(chosen, _explainer(plan, situation, person.facts, passed, head, score, order, limit, draw))


def arbitrate_many(
    catalog: Catalog,
    people: Sequence[Person],
    situation: Situation,
    models: Sequence[Model],
    config: DecisionsConfig,
    rng: np.random.Generator,
    limit: int,
) -> list[Decision]:
    """`arbitrate` for many people in one context (each with their segment's model), in order: people who share
    their survivors and model (the same simple conditions hold, the same policy verdicts, no cool-down, one
    segment) are drawn for together, one Thompson draw of a matrix and one sort of its rows."""
    plan = plan_of(catalog)
    context = _context(plan, situation, config)
    passes = []
    # People with the same policy inputs share its verdicts (the consent answers' mappings are shared by the batch's
    # reads, and alive for the call: their ids are a fair key).
    policies: dict[tuple[Any, ...], _Policy] = {}
    for person in people:
        share = _Policy.sharing(person, situation)
        policy = None if share is None else policies.get(share)
        passed = _survivors(plan, person, situation, config, policy)
        if share is not None and policy is None:
            policies[share] = passed.policy
        passes.append(passed)
    # The plan keeps the stages of people who share them: one survivors array for all of them (a cool-down makes a
    # person's own array, and their own group).
    groups: dict[tuple[int, int, str], list[int]] = {}
    for n, passed in enumerate(passes):
        groups.setdefault((id(passed.survivors), id(models[n]), people[n].segment), []).append(n)
    out: list[Decision | None] = [None] * len(people)
    for members in groups.values():
        first = members[0]
        model, survivors = models[first], passes[first].survivors
        head = survivors[: plan.enough(survivors, limit)]
        shape = (len(members), len(head))
        propensity: Floats = rng.beta(model.alpha[head], model.beta[head], size=shape)
        score: Floats = propensity * context.worth[head]
        keys = (np.broadcast_to(plan.name_rank[head], shape), -score, np.broadcast_to(plan.priority[head], shape))
        order: Ints = np.lexsort(keys, axis=-1)
        top = order[:, :limit]
        picked = head[top]
        scores, drawn = np.take_along_axis(score, top, axis=1), np.take_along_axis(propensity, top, axis=1)
        chosen = _chosen(plan, picked, scores, drawn, context, model, people[first].segment)

        def draw(indices: Ints, model: Model = model) -> tuple[Floats, Floats]:
            return _drawn(model, context.worth, rng, indices)

        for row, n in enumerate(members):
            explain = _explainer(plan, situation, people[n].facts, passes[n], head, score[row], order[row], limit, draw)
            out[n] = Decision(chosen[row], explain)
    return [decision for decision in out if decision is not None]
