"""Audience exports: a named list of people sent to a destination in one webhook (`audience.exported`), after the
one suppression policy (nobody is in an audience for a product they hold or just bought) and the destination's
consent purpose. Who was left out, and why, is in the answer and the log."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from seamline.consent.config import ConsentConfig
from seamline.consent.service import may_process_profile
from seamline.core.clock import isoformat_z, utcnow
from seamline.core.errors import NotFound
from seamline.decisions.checks import marketable
from seamline.decisions.config import DecisionsConfig
from seamline.destinations import repository
from seamline.destinations.service import WEBHOOK_KIND, target_of
from seamline.identity.service import roots_of
from seamline.outbox.service import enqueue

log = logging.getLogger(__name__)
AUDIENCE_EXPORTED = "audience.exported"


@dataclass(frozen=True, slots=True)
class LeftOut:
    profile_id: int
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class AudienceExport:
    destination: str
    audience: str
    product: str | None
    exported: tuple[int, ...]
    left_out: tuple[LeftOut, ...]
    delivery_id: str | None


def export_audience(
    session: Session,
    name: str,
    audience: str,
    profile_ids: Sequence[int],
    *,
    product: str | None,
    consent: ConsentConfig,
    decisions: DecisionsConfig,
) -> AudienceExport:
    """Queue an audience for a destination (it leaves after the caller commits), minus the people the suppression
    policy or the destination's consent purpose exclude."""
    destination = repository.by_name(session, name)
    if destination is None:
        raise NotFound(f"no destination {name!r}")
    roots = roots_of(session, profile_ids)
    people = list(dict.fromkeys(roots.get(p, p) for p in profile_ids))
    left_out: list[LeftOut] = []
    if product is not None:
        people, dropped = marketable(session, people, product, decisions)
        left_out.extend(LeftOut(p, v.rule, v.reason) for p, v in dropped.items())
    kept = []
    for person in people:
        if may_process_profile(session, person, destination.purpose, config=consent).allowed:
            kept.append(person)
        else:
            left_out.append(LeftOut(person, "consent", f"no consent to {destination.purpose}"))
    for item in left_out:
        log.info("audience %s for %s: profile %s left out (%s: %s)", audience, name, item.profile_id, item.rule,
                 item.reason)  # fmt: skip
    body = {
        "type": AUDIENCE_EXPORTED,
        "timestamp": isoformat_z(utcnow()),
        "data": {"audience": audience, "product": product, "profile_ids": kept},
    }
    entry, _ = enqueue(
        session, WEBHOOK_KIND, target_of(destination.name), {"destination_id": destination.id, "body": body}
    )
    return AudienceExport(name, audience, product, tuple(kept), tuple(left_out), entry.delivery_id)
