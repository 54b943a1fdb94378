"""The one contact policy as every outbound path asks it: the outbox at send time (next to consent), audience
exports to destinations. Never market what a person holds or just bought; one fatigue budget across every channel
and sender (the communications log, ours and other platforms'); quiet hours in the person's time zone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.decisions import repository
from seamline.decisions.config import DecisionsConfig
from seamline.decisions.contact import (
    CRITICAL,
    MARKETING,
    Contact,
    Verdict,
    budget_verdict,
    class_of,
    product_suppression,
    quiet_verdict,
    zone_of,
)
from seamline.decisions.service import contacts_of_people, held_products, traits_of_people
from seamline.identity.service import active_header, members_by_root, profile_members, roots_of
from seamline.profiles.survivorship import SurvivorshipConfig


@dataclass(frozen=True, slots=True)
class SendRequest:
    """A message about to leave: who to, its priority class words, and the product it markets (if any)."""

    key: str
    profile_id: int
    priority: str | None
    type: str
    purpose: str | None
    product: str | None


def _members(session: Session, profile_id: int) -> list[int]:
    root = int(active_header(session, profile_id).id)
    return [root, *[m for m in profile_members(session, root) if m != root]]


def _bought(
    session: Session, members: Sequence[int], config: DecisionsConfig, now: datetime
) -> list[tuple[str, datetime]]:
    return repository.purchases_of(session, members, now - timedelta(days=config.purchase_window_days))


# Where a session keeps the messages its checks let through: every later check in the same session counts them.
_ADMITTED = "seamline.decisions.admitted"


def _admitted(session: Session) -> dict[int, list[Contact]]:
    """The messages earlier checks in this session let through, by person (their active profile)."""
    found: dict[int, list[Contact]] = session.info.setdefault(_ADMITTED, {})
    return found


def send_verdicts(
    session: Session,
    requests: Sequence[SendRequest],
    config: DecisionsConfig,
    survivorship: SurvivorshipConfig,
    *,
    now: datetime | None = None,
) -> dict[str, Verdict | None]:
    """For each message, None (it may go now) or the verdict that stops or holds it. Messages count against the
    budget of those after them, in order, as if sent one by one: within the call, and across every call in the
    same session (a dispatcher checks all the kinds of one round in one session, so an email and an SMS to the same
    person share one budget before either is in the log)."""
    now = now or utcnow()
    out: dict[str, Verdict | None] = {}
    # Every person's profiles, contacts and time-zone traits in one read each for the whole batch: a dispatcher
    # asks for 200 messages at once, and on PostgreSQL the round trips cost more than the rules.
    asked = [r for r in requests if class_of(r.priority, r.type, r.purpose) != CRITICAL]
    roots = roots_of(session, [r.profile_id for r in asked])
    people = members_by_root(session, sorted(set(roots.values())))
    contacts_by = contacts_of_people(session, people, config, now)
    admitted = _admitted(session)
    for root, contacts in contacts_by.items():
        contacts.extend(admitted.get(root, ()))
    zone_traits = {config.timezone_trait, config.phone_trait}
    traits_by = traits_of_people(session, people, zone_traits, survivorship) if asked else {}
    for request in requests:
        klass = class_of(request.priority, request.type, request.purpose)
        if klass == CRITICAL:
            out[request.key] = None
            continue
        # By person, not by profile id: two messages to two merged profiles of one person share the budget too.
        root = roots.get(request.profile_id, request.profile_id)
        members, contacts = people[root], contacts_by[root]
        verdict = None
        if klass == MARKETING and request.product:
            verdict = product_suppression(
                request.product, config.names_of(request.product), held_products(session, members[0]),
                _bought(session, members, config, now), now, config.purchase_window_days,
            )  # fmt: skip
        if verdict is None:
            verdict = budget_verdict(klass, contacts, config.caps, config.service_caps, now)
        if verdict is None:
            traits = traits_by[root]
            zone = zone_of(traits, config.timezone_trait, config.phone_trait, config.default_timezone)
            verdict = quiet_verdict(klass, now, zone, config.quiet_start, config.quiet_end)
        if verdict is None:
            contacts.append(Contact(now, klass))
            admitted.setdefault(root, []).append(Contact(now, klass))
        out[request.key] = verdict
    return out


def marketable(
    session: Session, profile_ids: Sequence[int], product: str, config: DecisionsConfig, *, now: datetime | None = None
) -> tuple[list[int], dict[int, Verdict]]:
    """Split an audience for a product: (those it may be marketed to, those it may not with the verdict)."""
    now = now or utcnow()
    kept: list[int] = []
    dropped: dict[int, Verdict] = {}
    names = config.names_of(product)
    for profile_id in profile_ids:
        members = _members(session, profile_id)
        verdict = product_suppression(
            product, names, held_products(session, members[0]), _bought(session, members, config, now), now,
            config.purchase_window_days,
        )  # fmt: skip
        if verdict is None:
            kept.append(profile_id)
        else:
            dropped[profile_id] = verdict
    return kept, dropped
