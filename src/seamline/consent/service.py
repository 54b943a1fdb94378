"""Rules of the consent domain: record choices as new versions, decide from a profile's ledger, follow merges.

Services only flush; the caller's unit of work commits. Nothing here overwrites a choice: a change of mind is a
new row, and a merge moves rows between profiles without changing where each was made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.consent import feed, repository
from seamline.consent.choices import ChoiceInput, validate_choice
from seamline.consent.config import ConsentConfig
from seamline.consent.models import ConsentChoice
from seamline.consent.policy import (
    CONSENT,
    DELIVERY,
    Choice,
    ContactDecision,
    DeliveryDecision,
    Preferences,
    Reachability,
    delivery_preference,
    effective_preferences,
    is_contact_allowed,
    may_contact,
)
from seamline.consent.tracking import consent_from_message
from seamline.core.clock import utcnow
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.prepared import Reads


def _choice(row: ConsentChoice) -> Choice:
    return Choice(
        id=row.id,
        origin_profile_id=row.origin_profile_id,
        kind=row.kind,
        purpose=row.purpose,
        channel=row.channel,
        topic=row.topic,
        product=row.product,
        value=row.value,
        document_type=row.document_type,
        recorded_at=row.recorded_at,
        effective_at=row.effective_at,
        expires_at=row.expires_at,
        actor=row.actor,
        surface=row.surface,
        source_id=row.source_id,
        event_id=row.event_id,
        evidence=dict(row.evidence or {}),
        legal_basis=row.legal_basis,
    )


def _plain_choice(row: repository.ChoiceRow) -> Choice:
    """A Choice from a stored choice's row (the same fields in the same order)."""
    (id_, origin, kind, purpose, channel, topic, product, value, document_type) = row[:9]
    (recorded_at, effective_at, expires_at, actor, surface, source_id, event_id, evidence, legal_basis) = row[9:]
    return Choice(
        id_,
        origin,
        kind,
        purpose,
        channel,
        topic,
        product,
        value,
        document_type,
        recorded_at,
        effective_at,
        expires_at,
        actor,
        surface,
        source_id,
        event_id,
        dict(evidence or {}),
        legal_basis,
    )


def _subject(choice: ChoiceInput) -> dict[str, str | None]:
    return {
        "kind": choice.kind,
        "purpose": choice.purpose,
        "channel": choice.channel,
        "topic": choice.topic,
        "product": choice.product,
        "document_type": choice.document_type,
    }


def _record(
    session: Session, profile_id: int, choice: ChoiceInput, *, source_id: int | None, event_id: int | None
) -> Choice | None:
    """Append a validated choice; None when it adds nothing (a restatement of the current value)."""
    subject = _subject(choice)
    if event_id is not None:
        # A replayed event (unmerge re-derives profiles from their events) must not add a second version.
        earlier = repository.from_event(session, event_id, subject)
        if earlier is not None:
            return _choice(earlier)
    if choice.is_restatement:
        last = repository.latest_own(session, profile_id, subject)
        if last is not None and last.value == choice.value and last.expires_at is None:
            return None
    now = utcnow()
    row = repository.add(
        session,
        {
            **subject,
            "profile_id": profile_id,
            "origin_profile_id": profile_id,
            "value": choice.value,
            "actor": choice.actor,
            "surface": choice.surface,
            "source_id": source_id,
            "event_id": event_id,
            "evidence": dict(choice.evidence),
            "legal_basis": choice.legal_basis,
            "recorded_at": now,
            "effective_at": choice.effective_at or now,
            "expires_at": choice.expires_at,
        },
    )
    feed.add_change(session, row.id, now)  # announced to destinations once, after this transaction commits
    return _choice(row)


def record_choice(
    session: Session,
    profile_id: int,
    *,
    kind: str,
    purpose: str | None = None,
    channel: str | None = None,
    topic: str | None = None,
    product: str | None = None,
    value: str,
    document_type: str | None = None,
    actor: str,
    surface: str,
    source_id: int | None = None,
    event_id: int | None = None,
    evidence: Mapping[str, Any] | None = None,
    legal_basis: str | None = None,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
    config: ConsentConfig,
) -> Choice:
    """Append a new version of a choice (effective now unless said otherwise); raises InvalidInput naming the field."""
    choice = ChoiceInput(
        kind=kind,
        value=value,
        actor=actor,
        surface=surface,
        purpose=purpose,
        channel=channel,
        topic=topic,
        product=product,
        document_type=document_type,
        evidence=evidence if evidence is not None else {},
        legal_basis=legal_basis,
        effective_at=effective_at if effective_at is not None else utcnow(),
        expires_at=expires_at,
    )
    errors = validate_choice(choice, config)
    if errors:
        raise InvalidInput(errors, "the consent choice is not valid")
    recorded = _record(session, profile_id, choice, source_id=source_id, event_id=event_id)
    assert recorded is not None  # only restatements are skipped, and this is not one
    return recorded


@dataclass(frozen=True, slots=True)
class MessageConsent:
    """What a tracking message changed: the versions recorded, and the payload's problems (never raised)."""

    recorded: tuple[Choice, ...]
    errors: tuple[FieldError, ...]


def record_from_message(
    session: Session,
    profile_id: int,
    message: Mapping[str, Any],
    *,
    source_id: int | None,
    event_id: int | None,
    config: ConsentConfig,
) -> MessageConsent:
    """Record the choices a tracking message states; an unchanged restatement adds nothing, bad ones are reported."""
    parsed = consent_from_message(message, config=config)
    recorded = []
    for choice in parsed.choices:
        stored = _record(session, profile_id, choice, source_id=source_id, event_id=event_id)
        if stored is not None:
            recorded.append(stored)
    return MessageConsent(tuple(recorded), tuple(parsed.errors))


def history(session: Session, profile_id: int) -> list[Choice]:
    """Every version of every choice a profile holds (its own and merged-in ones), newest recorded first."""
    return [_choice(row) for row in repository.of_profile(session, profile_id)]


def _check_known(checks: Sequence[tuple[str, str | None, list[str]]]) -> None:
    errors = [
        FieldError(name, "invalid", f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        for name, value, allowed in checks
        if value is not None and value not in allowed
    ]
    if errors:
        raise InvalidInput(errors, "the consent question is not valid")


def may_contact_profile(
    reads: Reads,
    profile_id: int,
    purpose: str,
    channel: str,
    *,
    topic: str | None = None,
    product: str | None = None,
    reachability: Mapping[str, Reachability],
    config: ConsentConfig,
    now: datetime | None = None,
) -> ContactDecision:
    """The policy's answer for a stored profile; raises InvalidInput for a purpose, channel or topic not configured."""
    _check_known(
        [("purpose", purpose, config.purposes), ("channel", channel, config.channels), ("topic", topic, config.topics)]
    )
    rows = repository.rows_for_purpose(reads, profile_id, CONSENT, purpose)
    return may_contact(
        [_plain_choice(row) for row in rows],
        purpose,
        channel,
        topic=topic,
        product=product,
        now=now or utcnow(),
        reachability=reachability,
        config=config,
    )


@dataclass(frozen=True, slots=True)
class ContactQuestion:
    """One of a batch of questions to the policy: may this stored profile be contacted for a purpose now."""

    profile_id: int
    purpose: str
    topic: str | None
    product: str | None
    reachability: Reachability


def may_contact_profiles(
    session: Session,
    questions: Sequence[ContactQuestion],
    channel: str,
    *,
    config: ConsentConfig,
    now: datetime | None = None,
) -> list[ContactDecision]:
    """The policy's answer to each question, in order, from one read of every profile's ledger (a dispatcher's
    batch asks them all at once); raises InvalidInput for a purpose, channel or topic not configured."""
    _check_known([("channel", channel, config.channels)])
    for question in questions:
        _check_known([("purpose", question.purpose, config.purposes), ("topic", question.topic, config.topics)])
    rows = repository.rows_for_purposes(
        session, [q.profile_id for q in questions], CONSENT, [q.purpose for q in questions]
    )
    moment = now or utcnow()
    return [
        may_contact(
            [_plain_choice(row) for row in rows.get((q.profile_id, q.purpose), [])],
            q.purpose,
            channel,
            topic=q.topic,
            product=q.product,
            now=moment,
            reachability={channel: q.reachability},
            config=config,
        )
        for q in questions
    ]


def may_process_profiles(
    session: Session, questions: Sequence[tuple[int, str]], *, config: ConsentConfig, now: datetime | None = None
) -> list[ContactDecision]:
    """`may_process_profile` for many (profile, purpose) questions, in order, from one read of their ledgers."""
    for _profile_id, purpose in questions:
        _check_known([("purpose", purpose, config.purposes)])
    rows = repository.rows_for_purposes(session, [p for p, _ in questions], CONSENT, [u for _, u in questions])
    reach = {"*": Reachability(True, "no channel: data use, not contact")}
    moment = now or utcnow()
    return [
        may_contact(
            [_plain_choice(row) for row in rows.get((profile_id, purpose), [])],
            purpose,
            "*",
            now=moment,
            reachability=reach,
            config=config,
        )
        for profile_id, purpose in questions
    ]


def may_process_profile(
    reads: Reads, profile_id: int, purpose: str, *, config: ConsentConfig, now: datetime | None = None
) -> ContactDecision:
    """Whether a person's data may be used for a purpose at all (sharing with a destination, say): the policy asked
    for no particular channel, so only choices about every channel count. Raises InvalidInput for an unknown
    purpose."""
    _check_known([("purpose", purpose, config.purposes)])
    rows = repository.rows_for_purpose(reads, profile_id, CONSENT, purpose)
    reach = {"*": Reachability(True, "no channel: data use, not contact")}
    return may_contact(
        [_plain_choice(row) for row in rows], purpose, "*", now=now or utcnow(), reachability=reach, config=config
    )


def may_contact_each(
    reads: Reads,
    profile_id: int,
    asks: Sequence[tuple[str, str]],
    *,
    reachability: Mapping[str, Reachability],
    config: ConsentConfig,
    now: datetime | None = None,
) -> dict[tuple[str, str], ContactDecision]:
    """The policy's answers for several (purpose, channel) pairs of a stored profile from one read of its choices;
    channel `*` asks whether the data may be used for the purpose at all (as may_process_profile). Raises
    InvalidInput for a purpose or channel not configured."""
    _check_known([("purpose", p, config.purposes) for p, _c in asks] + [
        ("channel", c, config.channels) for _p, c in asks if c != "*"
    ])  # fmt: skip
    by_purpose: dict[str | None, list[Choice]] = {}
    for row in repository.rows_of_kind(reads, profile_id, CONSENT):
        by_purpose.setdefault(row.purpose, []).append(_plain_choice(row))
    now = now or utcnow()
    data_use = {"*": Reachability(True, "no channel: data use, not contact")}
    return {
        (purpose, channel): may_contact(
            by_purpose.get(purpose, []), purpose, channel, now=now,
            reachability=data_use if channel == "*" else reachability, config=config,
        )
        for purpose, channel in asks
    }  # fmt: skip


def contact_allowed(
    reads: Reads,
    profile_id: int,
    asks: Sequence[tuple[str, str]],
    *,
    config: ConsentConfig,
    now: datetime | None = None,
) -> dict[tuple[str, str], bool]:
    """Whether the policy allows each (purpose, channel) pair on a reachable channel (channel `*`: the data's use for
    the purpose), from one hot read of a stored profile's choices: `may_contact_each`'s answers without their words.
    Raises InvalidInput for a purpose or channel not configured."""
    _check_known([("purpose", p, config.purposes) for p, _c in asks] + [
        ("channel", c, config.channels) for _p, c in asks if c != "*"
    ])  # fmt: skip
    rows = repository.in_force_rows(reads, profile_id, CONSENT)  # the ten columns the winners need, by attribute
    moment = now or utcnow()
    return {ask: is_contact_allowed(rows, *ask, now=moment, config=config) for ask in asks}


def contact_allowed_of(
    reads: Reads,
    profile_ids: Sequence[int],
    asks: Sequence[tuple[str, str]],
    *,
    config: ConsentConfig,
    now: datetime | None = None,
) -> dict[int, dict[tuple[str, str], bool]]:
    """Per stored profile, whether the policy allows each (purpose, channel) pair on a reachable channel (channel `*`:
    the data's use for the purpose), from one read of everyone's choices: `may_contact_each`'s answers without their
    words, for a batch of people. Raises InvalidInput for a purpose or channel not configured."""
    _check_known([("purpose", p, config.purposes) for p, _c in asks] + [
        ("channel", c, config.channels) for _p, c in asks if c != "*"
    ])  # fmt: skip
    rows = repository.in_force_rows_of(reads, profile_ids, CONSENT)
    moment = now or utcnow()
    out: dict[int, dict[tuple[str, str], bool]] = {}
    for profile_id in profile_ids:
        choices = rows.get(profile_id, ())
        out[profile_id] = {
            (purpose, channel): is_contact_allowed(choices, purpose, channel, now=moment, config=config)
            for purpose, channel in asks
        }
    return out


def delivery_preference_for(
    session: Session,
    profile_id: int,
    document_type: str,
    *,
    product: str | None = None,
    config: ConsentConfig,
    now: datetime | None = None,
) -> DeliveryDecision:
    """The policy's delivery answer for a stored profile; raises InvalidInput for a document type not configured."""
    _check_known([("document_type", document_type, config.document_types)])
    rows = repository.of_profile(session, profile_id, kind=DELIVERY, document_type=document_type)
    return delivery_preference(
        [_choice(row) for row in rows], document_type, product=product, now=now or utcnow(), config=config
    )


def preferences_for(
    session: Session, profile_id: int, products: Sequence[str], *, config: ConsentConfig, now: datetime | None = None
) -> Preferences:
    """Every decision of a stored profile, customer-wide and for each of the given products (the preference page)."""
    return effective_preferences(history(session, profile_id), products, now or utcnow(), config)


def scrub_choices(session: Session, profile_ids: Sequence[int], *, actor: str, evidence: Mapping[str, Any]) -> int:
    """Erasure: keep each decision (what, which channel, when, granted or denied) as proof of what was honoured,
    but replace who stated it and its evidence (ip, user agent, message ids), which are personal; returns how many."""
    return repository.scrub(session, profile_ids, actor, dict(evidence))


@dataclass(frozen=True, slots=True)
class CoverageCount:
    """How many profiles' newest customer-wide choice of one subject is `value` (granted/denied, paper/electronic)."""

    kind: str  # consent or delivery
    purpose: str | None
    channel: str | None
    document_type: str | None
    value: str
    profiles: int


def coverage(session: Session, *, now: datetime | None = None) -> list[CoverageCount]:
    """Consent and paperless coverage: per purpose x channel and per document type, how many customers' newest
    customer-wide choice in effect says what (customers with no choice are not counted; the caller knows how many
    customers there are)."""
    return [CoverageCount(*row) for row in repository.coverage(session, now or utcnow())]
