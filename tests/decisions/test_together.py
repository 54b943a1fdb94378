"""Arbitrating people together, pure: `arbitrate_many` ranks each person as `arbitrate` does alone — the same actions
chosen in the same order and the same rule stopping every other — for people who share their survivors (drawn for
in one matrix) and people who do not (a holding, a consent, a cool-down of their own). The propensity model here is
all but certain (Beta(1e9, 1e9)), so the ranking is the values' and both ways must agree on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from seamline.consent.config import ConsentConfig
from seamline.decisions.arbitration import Person, Situation, arbitrate, arbitrate_many
from seamline.decisions.conditions import Facts
from seamline.decisions.contact import zone_of
from seamline.decisions.plan import Model, plan_of
from seamline.decisions.propensity import Tally
from seamline.decisions.service import Setup

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
SURE = Tally(2_000_000_000, 1_000_000_000, 0, 0)  # a posterior mean of 1/2, with no room to move


def _person(setup: Setup, holdings: set[str], marketing: bool, shown: dict[str, datetime] | None = None) -> Person:
    traits = {"age": 40, "segment": "mass", "timezone": "Europe/London"}
    consents = {(p, c): p != "marketing" or marketing for p in ("marketing", "service") for c in setup.channels}
    facts = Facts(traits, frozenset(holdings), [], 0, consents, NOW, "web", setup.product_names)
    zone = zone_of(traits, "timezone", "phone", "UTC")
    return Person(facts, lambda: zone, last_shown=shown or {}, segment="mass")


def _answer(decision: object) -> tuple[list[str], list[tuple[str, str]]]:
    ranked = [r.action.name for r in decision.ranked]  # type: ignore[attr-defined]  # the two decision types share these fields without a common base
    stopped = sorted((s.action.name, s.rule) for s in decision.stopped)  # type: ignore[attr-defined]  # the two decision types share these fields without a common base
    return ranked, stopped


def test_people_arbitrated_together_get_what_each_gets_alone() -> None:
    setup = Setup.default(ConsentConfig())
    plan = plan_of(setup.catalog)
    model = Model.of(plan, {a.name: SURE for a in setup.catalog.actions})
    people = [
        _person(setup, {"checking_account"}, True),
        _person(setup, {"checking_account"}, True),  # shares the first one's survivors
        _person(setup, {"checking_account", "credit_card"}, True),
        _person(setup, set(), False),
        _person(setup, {"checking_account"}, True, {"savings_offer": NOW - timedelta(days=1)}),  # cooling down
    ]
    for channel in ("web", "email", "call_center"):
        situation = Situation(channel)
        for limit in (1, 3):
            together = arbitrate_many(
                setup.catalog, people, situation, [model] * len(people), setup.config, np.random.default_rng(1), limit
            )
            alone = [
                arbitrate(setup.catalog, p, situation, model, setup.config, np.random.default_rng(2), limit)
                for p in people
            ]
            assert [_answer(d) for d in together] == [_answer(d) for d in alone]
    ranked = arbitrate_many(
        setup.catalog, people, Situation("web"), [model] * 5, setup.config, np.random.default_rng(3), 50
    )
    assert "savings_offer" in [r.action.name for r in ranked[0].ranked]  # the first is offered savings...
    assert ("savings_offer", "cooldown") in _answer(ranked[4])[1]  # ...and the cool-down stops it for the last


def test_people_sharing_consent_answers_share_the_policy_only_where_their_facts_agree() -> None:
    # A batch's reads hand everyone with the same consent answers one mapping; the policy's verdicts are shared
    # only by people whose holdings, purchases and showings agree too.
    setup = Setup.default(ConsentConfig())
    model = Model.of(plan_of(setup.catalog), {a.name: SURE for a in setup.catalog.actions})
    consents = {(p, c): True for p in ("marketing", "service") for c in setup.channels}
    traits = {"age": 40, "segment": "mass", "timezone": "Europe/London"}
    zone = zone_of(traits, "timezone", "phone", "UTC")

    def one(holdings: set[str], bought: list[tuple[str, datetime]], shown: dict[str, datetime]) -> Person:
        facts = Facts(traits, frozenset(holdings), bought, 0, consents, NOW, "web", setup.product_names)
        return Person(facts, lambda: zone, last_shown=shown, segment="mass")

    people = [
        one({"checking_account"}, [], {}),
        one({"checking_account", "credit_card"}, [], {}),  # holds the card
        one({"checking_account"}, [("credit_card", NOW - timedelta(days=3))], {}),  # bought it three days ago
        one({"checking_account"}, [], {"savings_offer": NOW - timedelta(days=1)}),  # cooling down
        one({"checking_account"}, [], {}),  # the first one's twin
    ]
    for channel in ("web", "email"):
        together = arbitrate_many(
            setup.catalog, people, Situation(channel), [model] * 5, setup.config, np.random.default_rng(1), 50
        )
        alone = [
            arbitrate(setup.catalog, p, Situation(channel), model, setup.config, np.random.default_rng(2), 50)
            for p in people
        ]
        assert [_answer(d) for d in together] == [_answer(d) for d in alone]
        rules = [dict(_answer(d)[1]) for d in together]
        assert "card_offer" in [r.action.name for r in together[0].ranked]
        assert rules[1]["card_offer"] == "holds_product"
        assert rules[2]["card_offer"] == "bought_recently"
        assert rules[3]["savings_offer"] == "cooldown"
        assert "card_offer" in [r.action.name for r in together[4].ranked]
