"""The consent policy, pure: scope, versions, expiry, service messages, reachability and merged profiles."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from seamline.consent.config import ConsentConfig
from seamline.consent.policy import (
    Choice,
    Reachability,
    delivery_preference,
    effective_preferences,
    may_contact,
)

CONFIG = ConsentConfig()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=365)
CHECKING, CARD, MORTGAGE, SAVINGS = "CHK-1", "CC-9", "MTG-3", "SAV-4"
PRODUCTS = (CHECKING, CARD, MORTGAGE)
ANNA, BEN = 1, 2
_ids = itertools.count(1)
REACHABLE = {channel: Reachability(True, "address on file") for channel in CONFIG.channels}


def consent(
    purpose: str,
    value: str,
    *,
    day: int,
    channel: str | None = None,
    topic: str | None = None,
    product: str | None = None,
    origin: int = ANNA,
    expires_day: int | None = None,
    surface: str = "web",
) -> Choice:
    """A consent choice made on `day` days after T0."""
    return Choice(
        id=next(_ids),
        origin_profile_id=origin,
        kind="consent",
        purpose=purpose,
        channel=channel,
        topic=topic,
        product=product,
        value=value,
        document_type=None,
        recorded_at=T0 + timedelta(days=day),
        effective_at=T0 + timedelta(days=day),
        expires_at=T0 + timedelta(days=expires_day) if expires_day is not None else None,
        actor="anna",
        surface=surface,
        legal_basis="consent",
    )


def delivery(
    document_type: str, value: str, *, day: int, product: str | None = None, origin: int = ANNA, surface: str = "web"
) -> Choice:
    """A delivery choice made on `day` days after T0."""
    return Choice(
        id=next(_ids),
        origin_profile_id=origin,
        kind="delivery",
        purpose=None,
        channel=None,
        topic=None,
        product=product,
        value=value,
        document_type=document_type,
        recorded_at=T0 + timedelta(days=day),
        effective_at=T0 + timedelta(days=day),
        expires_at=None,
        actor="anna",
        surface=surface,
    )


def allowed(
    choices: Sequence[Choice],
    purpose: str,
    channel: str = "email",
    *,
    topic: str | None = None,
    product: str | None = None,
    now: datetime = NOW,
) -> bool:
    return may_contact(
        choices, purpose, channel, topic=topic, product=product, now=now, reachability=REACHABLE, config=CONFIG
    ).allowed


def delivered(choices: Sequence[Choice], document_type: str, product: str | None = None) -> str:
    return delivery_preference(choices, document_type, product=product, now=NOW, config=CONFIG).value


# The paperless story: Anna holds a checking account, a credit card and a mortgage.


def go_paperless_in_the_card_app(day: int = 10) -> list[Choice]:
    """The card app records 'go paperless' customer-wide: the person did not scope it to the card."""
    return [delivery(d, "electronic", day=day, surface="card-app") for d in CONFIG.document_types]


def test_going_paperless_in_the_card_app_applies_to_every_product() -> None:
    choices = go_paperless_in_the_card_app()
    for product in (*PRODUCTS, None):
        for document_type in CONFIG.document_types:
            assert delivered(choices, document_type, product) == "electronic"


def test_a_product_scoped_exception_wins_for_that_product_only() -> None:
    choices = [*go_paperless_in_the_card_app(day=10), delivery("statements", "paper", day=20, product=MORTGAGE)]
    assert delivered(choices, "statements", MORTGAGE) == "paper"
    assert delivered(choices, "notices", MORTGAGE) == "electronic"
    assert delivered(choices, "statements", CHECKING) == "electronic"
    assert delivered(choices, "statements", CARD) == "electronic"
    assert delivered(choices, "statements") == "electronic"


def test_a_product_opened_later_inherits_the_customer_wide_choice() -> None:
    choices = [*go_paperless_in_the_card_app(day=10), delivery("statements", "paper", day=20, product=MORTGAGE)]
    assert delivered(choices, "statements", SAVINGS) == "electronic"
    assert delivered(choices, "tax_forms", SAVINGS) == "electronic"


def test_the_newest_covering_choice_wins_whatever_its_scope() -> None:
    exception = delivery("statements", "paper", day=20, product=MORTGAGE)
    everything_paper = delivery("statements", "paper", day=30)
    back_to_electronic = delivery("statements", "electronic", day=40)
    choices = [*go_paperless_in_the_card_app(day=10), exception, everything_paper]
    assert [delivered(choices, "statements", p) for p in PRODUCTS] == ["paper", "paper", "paper"]
    choices.append(back_to_electronic)
    assert [delivered(choices, "statements", p) for p in PRODUCTS] == ["electronic"] * 3
    choices.append(delivery("statements", "paper", day=50, product=MORTGAGE))
    assert [delivered(choices, "statements", p) for p in PRODUCTS] == ["electronic", "electronic", "paper"]


def test_nobody_chose_means_the_configured_defaults() -> None:
    assert delivered([], "statements", MORTGAGE) == "paper"
    assert delivered([], "statements") == "paper"
    electronic = ConsentConfig(default_delivery="electronic")
    assert delivery_preference([], "notices", now=NOW, config=electronic).value == "electronic"
    decision = may_contact([], "marketing", "email", now=NOW, reachability=REACHABLE, config=CONFIG)
    assert not decision.allowed
    assert decision.deciding == ()
    assert any(r.startswith("default:") and "marketing is denied" in r for r in decision.reasons)
    assert allowed([], "service")
    assert allowed([], "analytics")
    assert not allowed([], "personalization")
    assert not allowed([], "profiling")


def test_a_choice_for_every_channel_yields_to_a_newer_one_for_one_channel() -> None:
    choices = [consent("marketing", "denied", day=1), consent("marketing", "granted", day=2, channel="email")]
    assert allowed(choices, "marketing", "email")
    assert not allowed(choices, "marketing", "sms")
    choices.append(consent("marketing", "denied", day=3))
    assert not allowed(choices, "marketing", "email")


def test_topics_and_products_only_cover_what_they_name() -> None:
    choices = [
        consent("marketing", "granted", day=1),
        consent("marketing", "denied", day=2, topic="offers"),
        consent("marketing", "denied", day=3, product=CARD),
    ]
    assert not allowed(choices, "marketing", topic="offers")
    assert allowed(choices, "marketing", topic="product_news")
    assert allowed(choices, "marketing")
    assert not allowed(choices, "marketing", product=CARD)
    assert allowed(choices, "marketing", product=CHECKING)
    assert allowed(choices, "marketing", topic="product_news", product=MORTGAGE)


def test_ties_on_effective_time_go_to_the_later_recorded_choice() -> None:
    first = consent("marketing", "granted", day=5)
    second = consent("marketing", "denied", day=5)
    assert not allowed([second, first], "marketing")
    decision = may_contact([first, second], "marketing", "email", now=NOW, reachability=REACHABLE, config=CONFIG)
    assert decision.deciding == (second,)


def test_a_choice_effective_in_the_future_is_not_yet_in_force() -> None:
    choices = [consent("marketing", "granted", day=1), consent("marketing", "denied", day=400)]
    assert allowed(choices, "marketing")
    assert not allowed(choices, "marketing", now=T0 + timedelta(days=401))


def test_an_expired_grant_falls_back_to_the_default() -> None:
    choices = [consent("marketing", "granted", day=1, expires_day=100)]
    assert allowed(choices, "marketing", now=T0 + timedelta(days=99))
    decision = may_contact(choices, "marketing", "email", now=NOW, reachability=REACHABLE, config=CONFIG)
    assert not decision.allowed
    assert any("expired" in r and f"#{choices[0].id}" in r for r in decision.reasons)
    assert any(r.startswith("default:") for r in decision.reasons)


def test_an_expired_pause_falls_back_to_the_earlier_choice() -> None:
    grant = consent("marketing", "granted", day=1)
    pause = consent("marketing", "denied", day=10, expires_day=40)
    assert not allowed([grant, pause], "marketing", now=T0 + timedelta(days=20))
    decision = may_contact([grant, pause], "marketing", "email", now=NOW, reachability=REACHABLE, config=CONFIG)
    assert decision.allowed
    assert decision.deciding == (grant,)


def test_a_service_message_passes_a_marketing_opt_out_but_not_an_unreachable_channel() -> None:
    choices = [consent("marketing", "denied", day=1)]
    assert not allowed(choices, "marketing")
    assert allowed(choices, "service")
    bounced = {**REACHABLE, "email": Reachability(False, "bounced 2026-12-01")}
    decision = may_contact(choices, "service", "email", now=NOW, reachability=bounced, config=CONFIG)
    assert not decision.allowed
    assert "email unreachable: bounced 2026-12-01" in decision.reasons
    assert may_contact(choices, "service", "sms", now=NOW, reachability=bounced, config=CONFIG).allowed
    no_address = {"sms": Reachability(False, "no phone number")}
    granted = [consent("marketing", "granted", day=2)]
    assert not may_contact(granted, "marketing", "sms", now=NOW, reachability=no_address, config=CONFIG).allowed


def test_a_channel_without_known_reachability_is_not_contacted() -> None:
    decision = may_contact([], "service", "email", now=NOW, reachability={}, config=CONFIG)
    assert not decision.allowed
    assert decision.reasons[-1] == "email unreachable: reachability unknown"


def test_a_service_opt_out_is_respected() -> None:
    choices = [consent("service", "denied", day=1, channel="sms"), consent("marketing", "granted", day=2)]
    assert not allowed(choices, "service", "sms")
    assert allowed(choices, "service", "email")


def test_a_merge_never_grants_one_persons_consent_to_another_and_is_flagged() -> None:
    anna_denied = consent("marketing", "denied", day=1, origin=ANNA)
    ben_granted = consent("marketing", "granted", day=50, origin=BEN)
    decision = may_contact(
        [anna_denied, ben_granted], "marketing", "email", now=NOW, reachability=REACHABLE, config=CONFIG
    )
    assert not decision.allowed
    assert decision.conflict
    assert decision.deciding == (anna_denied,)
    assert any("conflict between merged profiles" in r and "denied, applies" in r for r in decision.reasons)
    assert any(r.startswith("overruled:") and f"#{ben_granted.id}" in r for r in decision.reasons)


def test_merged_profiles_that_agree_are_not_in_conflict_and_one_that_never_chose_does_not_vote() -> None:
    both = [consent("analytics", "denied", day=1, origin=ANNA), consent("analytics", "denied", day=2, origin=BEN)]
    decision = may_contact(both, "analytics", "web", now=NOW, reachability=REACHABLE, config=CONFIG)
    assert (decision.allowed, decision.conflict, len(decision.deciding)) == (False, False, 2)
    only_anna = [consent("marketing", "granted", day=1, origin=ANNA), consent("analytics", "denied", day=1, origin=BEN)]
    assert allowed(only_anna, "marketing")


def test_merged_profiles_that_disagree_on_delivery_get_paper_and_a_flag() -> None:
    choices = [
        delivery("statements", "electronic", day=1, origin=ANNA),
        delivery("statements", "paper", day=1, origin=BEN),
    ]
    decision = delivery_preference(choices, "statements", product=CARD, now=NOW, config=CONFIG)
    assert (decision.value, decision.conflict) == ("paper", True)
    assert [c.origin_profile_id for c in decision.deciding] == [BEN]


def test_reasons_name_the_deciding_version_and_scope() -> None:
    choices = [
        delivery("statements", "electronic", day=1, product=MORTGAGE),
        delivery("statements", "paper", day=2, product=MORTGAGE),
        delivery("statements", "electronic", day=3, product=MORTGAGE, surface="mortgage-portal"),
    ]
    decision = delivery_preference(choices, "statements", product=MORTGAGE, now=NOW, config=CONFIG)
    [reason] = decision.reasons
    assert decision.deciding == (choices[2],)
    assert f"choice #{choices[2].id} (version 3 of delivery of statements, product {MORTGAGE}" in reason
    assert "via mortgage-portal" in reason
    customer_wide = consent("marketing", "granted", day=1, channel="email", topic="offers")
    [reason] = may_contact(
        [customer_wide], "marketing", "email", topic="offers", now=NOW, reachability=REACHABLE, config=CONFIG
    ).reasons[:1]
    assert f"choice #{customer_wide.id} (version 1 of marketing by email, offers, customer-wide" in reason


def test_effective_preferences_decide_every_purpose_channel_and_document_per_product() -> None:
    choices = [
        *go_paperless_in_the_card_app(),
        delivery("statements", "paper", day=20, product=MORTGAGE),
        consent("marketing", "granted", day=1, channel="email"),
    ]
    prefs = effective_preferences(choices, PRODUCTS, NOW, CONFIG)
    n_topics = len(CONFIG.topics) + 1
    assert len(prefs.consent) == len(CONFIG.purposes) * len(CONFIG.channels) * n_topics
    email = prefs.consent[("marketing", "email", None)]
    assert set(email) == {None, *PRODUCTS}
    assert all(decision.allowed for decision in email.values())
    assert not prefs.consent[("marketing", "sms", None)][CARD].allowed
    assert prefs.consent[("service", "sms", None)][None].allowed
    statements = prefs.delivery["statements"]
    assert {p: d.value for p, d in statements.items()} == {
        None: "electronic",
        CHECKING: "electronic",
        CARD: "electronic",
        MORTGAGE: "paper",
    }


def test_the_configuration_checks_its_names() -> None:
    custom = ConsentConfig(purposes=["service", "marketing", "research"])
    assert custom.defaults == {"service": "granted", "marketing": "denied"}
    assert custom.default_for("research") == "denied"
    assert set(custom.segment_categories.values()) == {"marketing"}
    with pytest.raises(ValidationError, match="defaults name purposes that are not configured"):
        ConsentConfig(purposes=["service"], defaults={"marketing": "granted"})
    with pytest.raises(ValidationError, match="lowercase names"):
        ConsentConfig(channels=["E-mail"])
    with pytest.raises(ValidationError, match="segment_categories"):
        ConsentConfig(segment_categories={"Advertising": "ads"})


_values = st.sampled_from(["granted", "denied"])
_side = st.lists(st.tuples(_values, st.integers(0, 30), st.sampled_from([None, "email"])), max_size=4)


@given(anna=_side, ben=_side)
def test_merging_never_allows_what_one_side_alone_denies(
    anna: list[tuple[str, int, str | None]], ben: list[tuple[str, int, str | None]]
) -> None:
    def made(side: list[tuple[str, int, str | None]], origin: int) -> list[Choice]:
        return [consent("marketing", v, day=d, channel=c, origin=origin) for v, d, c in side]

    anna_choices, ben_choices = made(anna, ANNA), made(ben, BEN)
    merged = allowed(anna_choices + ben_choices, "marketing")
    if merged:
        assert allowed(anna_choices, "marketing") or not anna_choices
        assert allowed(ben_choices, "marketing") or not ben_choices
