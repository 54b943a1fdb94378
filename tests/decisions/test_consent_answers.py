"""The decision point's consent answer without words, pure: `is_contact_allowed` says what `may_contact(...).allowed`
says for every ledger (several merged origins, choices by channel, expired ones, ones not yet effective, a product's
or a topic's own choice that does not cover the customer-wide question, disagreements between origins)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from seamline.consent.config import ConsentConfig
from seamline.consent.policy import Choice, Reachability, is_contact_allowed, may_contact

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
REACHABLE = {c: Reachability(True, "on file") for c in ("email", "sms", "web", "*")}


def _ledger(rng: random.Random) -> list[Choice]:
    choices = []
    for n in range(rng.randint(0, 6)):
        effective = NOW + timedelta(days=rng.choice([-30, -10, -1, 2]))
        expires = rng.choice([None, None, NOW - timedelta(days=1), NOW + timedelta(days=5)])
        choices.append(
            Choice(
                n + 1, rng.choice([1, 2, 3]), rng.choice(["consent", "consent", "delivery"]),
                rng.choice(["marketing", "service"]), rng.choice([None, None, "email", "sms"]),
                rng.choice([None, None, None, "offers"]), rng.choice([None, None, None, "card"]),
                rng.choice(["granted", "denied"]), None, effective, effective, expires, "test", "api",
            )
        )  # fmt: skip
    return choices


def test_the_answer_without_words_is_the_policys_answer_on_random_ledgers() -> None:
    rng = random.Random(16)
    for config in (ConsentConfig(), ConsentConfig(defaults={"marketing": "granted", "service": "granted"})):
        for _ in range(2000):
            ledger = _ledger(rng)
            for purpose in ("marketing", "service"):
                for channel in ("email", "sms", "*"):
                    expected = may_contact(
                        ledger, purpose, channel, now=NOW, reachability=REACHABLE, config=config
                    ).allowed
                    assert is_contact_allowed(ledger, purpose, channel, now=NOW, config=config) is expected, ledger


def test_a_denial_on_one_merged_origin_outweighs_a_grant_on_another() -> None:
    at = NOW - timedelta(days=3)
    grant = Choice(1, 1, "consent", "marketing", None, None, None, "granted", None, at, at, None, "a", "api")
    deny = Choice(2, 2, "consent", "marketing", "email", None, None, "denied", None, at, at, None, "b", "api")
    config = ConsentConfig()
    assert is_contact_allowed([grant, deny], "marketing", "email", now=NOW, config=config) is False
    assert is_contact_allowed([grant, deny], "marketing", "sms", now=NOW, config=config) is True
