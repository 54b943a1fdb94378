"""The one consent policy: may we contact this person for this purpose, and how do they want documents? Pure.

A choice covers a request when its channel, topic and product are each None (every one) or the one asked about.
Among the covering choices in force (effective, not expired), the newest by `effective_at` wins (ties: the later
recorded, i.e. higher id); a customer-wide choice and a product's own choice compete on time alone, so a product
opened later inherits the customer-wide choice and a product's exception holds until a newer covering choice.

Merged profiles: every choice keeps the profile it was made on (`origin_profile_id`). The winner is found per
origin and the origins' winners are combined so that the most restrictive value decides: one person's grant is
never another person's consent. Origins that never chose for the request do not vote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from seamline.consent.config import ConsentConfig

CONSENT = "consent"
DELIVERY = "delivery"
KINDS = (CONSENT, DELIVERY)
GRANTED = "granted"
DENIED = "denied"
PAPER = "paper"
ELECTRONIC = "electronic"
CONSENT_VALUES = (GRANTED, DENIED)
DELIVERY_VALUES = (PAPER, ELECTRONIC)


@dataclass(frozen=True, slots=True)
class Choice:
    """One version of one consent or delivery choice, as recorded; never changed after."""

    id: int
    origin_profile_id: int
    kind: str
    purpose: str | None
    channel: str | None  # None: every channel
    topic: str | None  # None: every topic
    product: str | None  # None: customer-wide
    value: str
    document_type: str | None
    recorded_at: datetime
    effective_at: datetime
    expires_at: datetime | None
    actor: str
    surface: str
    source_id: int | None = None
    event_id: int | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict, hash=False)
    legal_basis: str | None = None

    def is_in_force(self, now: datetime) -> bool:
        """Effective by now and not yet expired."""
        return self.effective_at <= now and (self.expires_at is None or self.expires_at > now)

    @property
    def scope(self) -> str:
        """Where the choice applies, in words."""
        return "customer-wide" if self.product is None else f"product {self.product}"

    @property
    def subject(self) -> str:
        """What the choice is about, in words."""
        if self.kind == DELIVERY:
            return f"delivery of {self.document_type}"
        return f"{self.purpose} by {self.channel or 'every channel'}, {self.topic or 'every topic'}"


@dataclass(frozen=True, slots=True)
class Reachability:
    """Whether a channel can reach the person at all (an address on file, not bounced), and why."""

    reachable: bool
    reason: str


@dataclass(frozen=True, slots=True)
class ContactDecision:
    """May we contact: the answer, the reasons in words, the choices that decided, and whether merged sides disagree."""

    allowed: bool
    reasons: tuple[str, ...]
    deciding: tuple[Choice, ...]
    conflict: bool


@dataclass(frozen=True, slots=True)
class DeliveryDecision:
    """How a document type is delivered: paper or electronic, with reasons, deciding choices and any conflict."""

    value: str
    reasons: tuple[str, ...]
    deciding: tuple[Choice, ...]
    conflict: bool


@dataclass(frozen=True, slots=True)
class Preferences:
    """Every decision of a person, customer-wide (key None) and per product.

    `consent` is keyed by (purpose, channel, topic or None), then product; it says what the person chose and
    ignores reachability, which only `may_contact` knows. `delivery` is keyed by document type, then product.
    """

    consent: Mapping[tuple[str, str, str | None], Mapping[str | None, ContactDecision]]
    delivery: Mapping[str, Mapping[str | None, DeliveryDecision]]


def _version_key(choice: Choice) -> tuple[object, ...]:
    return (
        choice.origin_profile_id,
        choice.kind,
        choice.purpose,
        choice.channel,
        choice.topic,
        choice.product,
        choice.document_type,
    )


def _versions(choices: Iterable[Choice]) -> dict[int, int]:
    """Each choice's version number: its place among the choices with the same subject, scope and origin."""
    counts: dict[tuple[object, ...], int] = {}
    out: dict[int, int] = {}
    for choice in sorted(choices, key=lambda c: c.id):
        key = _version_key(choice)
        counts[key] = counts.get(key, 0) + 1
        out[choice.id] = counts[key]
    return out


def _newest(choices: Iterable[Choice]) -> Choice | None:
    return max(choices, key=lambda c: (c.effective_at, c.id), default=None)


def _describe(choice: Choice, versions: Mapping[int, int]) -> str:
    return (
        f"choice #{choice.id} (version {versions.get(choice.id, 1)} of {choice.subject}, {choice.scope}, "
        f"on profile {choice.origin_profile_id}): {choice.value}, effective {choice.effective_at.isoformat()}, "
        f"recorded by {choice.actor} via {choice.surface}"
    )


@dataclass(frozen=True, slots=True)
class _Outcome:
    value: str | None  # None: nobody chose
    reasons: tuple[str, ...]
    deciding: tuple[Choice, ...]
    conflict: bool


def _decide(covering: Sequence[Choice], now: datetime, restrictive: str, versions: Mapping[int, int]) -> _Outcome:
    """The winner per origin among covering choices, combined so that the restrictive value wins a disagreement."""
    by_origin: dict[int, list[Choice]] = {}
    for choice in covering:
        if choice.effective_at <= now:
            by_origin.setdefault(choice.origin_profile_id, []).append(choice)
    reasons: list[str] = []
    winners: list[Choice] = []
    for origin in sorted(by_origin):
        started = by_origin[origin]
        newest = _newest(started)
        winner = _newest(c for c in started if c.is_in_force(now))
        if newest is not None and newest is not winner and newest.expires_at is not None:
            reasons.append(f"{_describe(newest, versions)} expired {newest.expires_at.isoformat()}")
        if winner is not None:
            winners.append(winner)
    if not winners:
        return _Outcome(None, tuple(reasons), (), False)
    values = {w.value for w in winners}
    if len(values) == 1:
        value = winners[0].value
        reasons.extend(
            f"{'decided by' if len(winners) == 1 else 'agreed by'} {_describe(w, versions)}" for w in winners
        )
        return _Outcome(value, tuple(reasons), tuple(winners), False)
    sides = "; ".join(f"profile {w.origin_profile_id} {w.value}" for w in winners)
    reasons.append(f"conflict between merged profiles ({sides}): the most restrictive value, {restrictive}, applies")
    deciding = tuple(w for w in winners if w.value == restrictive)
    reasons.extend(f"decided by {_describe(w, versions)}" for w in deciding)
    reasons.extend(f"overruled: {_describe(w, versions)}" for w in winners if w.value != restrictive)
    return _Outcome(restrictive, tuple(reasons), deciding, True)


def _covers(choice: Choice, channel: str | None, topic: str | None, product: str | None) -> bool:
    return (
        (choice.channel is None or choice.channel == channel)
        and (choice.topic is None or choice.topic == topic)
        and (choice.product is None or choice.product == product)
    )


def _consent(
    choices: Sequence[Choice],
    purpose: str,
    channel: str,
    topic: str | None,
    product: str | None,
    now: datetime,
    config: ConsentConfig,
    versions: Mapping[int, int],
) -> tuple[bool, tuple[str, ...], tuple[Choice, ...], bool]:
    covering = [
        c for c in choices if c.kind == CONSENT and c.purpose == purpose and _covers(c, channel, topic, product)
    ]
    outcome = _decide(covering, now, DENIED, versions)
    if outcome.value is None:
        default = config.default_for(purpose)
        where = "customer-wide" if product is None else f"for product {product}"
        reason = f"default: no choice in force for {purpose} by {channel} {where}, so {purpose} is {default}"
        return default == GRANTED, (*outcome.reasons, reason), (), False
    return outcome.value == GRANTED, outcome.reasons, outcome.deciding, outcome.conflict


def may_contact(
    choices: Sequence[Choice],
    purpose: str,
    channel: str,
    *,
    topic: str | None = None,
    product: str | None = None,
    now: datetime,
    reachability: Mapping[str, Reachability],
    config: ConsentConfig,
) -> ContactDecision:
    """Whether the person may be contacted for a purpose on a channel (about a topic, for a product), and why.

    Only choices of the purpose asked about count, so a marketing opt-out never blocks a service message; an
    unreachable channel denies every purpose, and a channel missing from `reachability` counts as unreachable.
    """
    versions = _versions(choices)
    allowed, reasons, deciding, conflict = _consent(choices, purpose, channel, topic, product, now, config, versions)
    reach = reachability.get(channel)
    if reach is None:
        return ContactDecision(False, (*reasons, f"{channel} unreachable: reachability unknown"), deciding, conflict)
    if not reach.reachable:
        return ContactDecision(False, (*reasons, f"{channel} unreachable: {reach.reason}"), deciding, conflict)
    return ContactDecision(allowed, (*reasons, f"{channel} reachable: {reach.reason}"), deciding, conflict)


class ChoiceInForce(Protocol):
    """What deciding the winner needs of a choice (a Choice, or a row of these columns)."""

    @property
    def id(self) -> int: ...
    @property
    def origin_profile_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def purpose(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def topic(self) -> str | None: ...
    @property
    def product(self) -> str | None: ...
    @property
    def value(self) -> str: ...
    @property
    def effective_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime | None: ...


def is_contact_allowed(
    choices: Iterable[ChoiceInForce], purpose: str, channel: str, *, now: datetime, config: ConsentConfig
) -> bool:
    """`may_contact(...).allowed` for a reachable channel, no topic and no product, without the reasons in words: the
    same winners (the newest covering choice in force per origin, the restrictive value on a disagreement, else the
    purpose's default). The decision point asks it for every person of a batch, where the words cost 10x the
    answer."""
    winners: dict[int, ChoiceInForce] = {}
    for c in choices:
        if (
            c.kind == CONSENT and c.purpose == purpose and c.topic is None and c.product is None
            and (c.channel is None or c.channel == channel)
            and c.effective_at <= now and (c.expires_at is None or c.expires_at > now)
        ):  # fmt: skip
            held = winners.get(c.origin_profile_id)
            if held is None or (c.effective_at, c.id) > (held.effective_at, held.id):
                winners[c.origin_profile_id] = c
    if not winners:
        return config.default_for(purpose) == GRANTED
    return all(w.value == GRANTED for w in winners.values())  # a disagreement: the restrictive value (denied)


def _delivery(
    choices: Sequence[Choice],
    document_type: str,
    product: str | None,
    now: datetime,
    config: ConsentConfig,
    versions: Mapping[int, int],
) -> DeliveryDecision:
    covering = [
        c
        for c in choices
        if c.kind == DELIVERY and c.document_type == document_type and _covers(c, None, None, product)
    ]
    outcome = _decide(covering, now, PAPER, versions)
    if outcome.value is None:
        where = "customer-wide" if product is None else f"for product {product}"
        reason = f"default: no choice in force for {document_type} {where}, so delivery is {config.default_delivery}"
        return DeliveryDecision(config.default_delivery, (*outcome.reasons, reason), (), False)
    return DeliveryDecision(outcome.value, outcome.reasons, outcome.deciding, outcome.conflict)


def delivery_preference(
    choices: Sequence[Choice],
    document_type: str,
    *,
    product: str | None = None,
    now: datetime,
    config: ConsentConfig,
) -> DeliveryDecision:
    """How a document type is delivered for a product (or customer-wide), and why.

    Scoping follows `may_contact`. When merged profiles disagree, paper wins — the legally safe way to deliver
    a document, since it needs no one's consent to electronic delivery — and the decision is flagged as a conflict.
    """
    return _delivery(choices, document_type, product, now, config, _versions(choices))


def effective_preferences(
    choices: Sequence[Choice], products: Sequence[str], now: datetime, config: ConsentConfig
) -> Preferences:
    """Every purpose, channel and topic, and every document type, decided customer-wide and for each product."""
    versions = _versions(choices)
    scopes: list[str | None] = [None, *products]
    consent: dict[tuple[str, str, str | None], dict[str | None, ContactDecision]] = {}
    for purpose in config.purposes:
        for channel in config.channels:
            for topic in [None, *config.topics]:
                per_scope = consent.setdefault((purpose, channel, topic), {})
                for product in scopes:
                    allowed, reasons, deciding, conflict = _consent(
                        choices, purpose, channel, topic, product, now, config, versions
                    )
                    per_scope[product] = ContactDecision(allowed, reasons, deciding, conflict)
    delivery = {
        document_type: {
            product: _delivery(choices, document_type, product, now, config, versions) for product in scopes
        }
        for document_type in config.document_types
    }
    return Preferences(consent, delivery)
