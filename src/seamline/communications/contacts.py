"""What the contact policy reads of the communications log: a person's past contacts (the fatigue budget), the
channels that reach them now (a next step in the channel the customer used), and whom a dispatcher's batch is about
(the per-person lock)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from seamline.communications import repository
from seamline.communications.reachability import contact_points
from seamline.communications.service import DEFERRED, FAILED, QUEUED, SUPPRESSED
from seamline.consent.config import ConsentConfig
from seamline.consent.service import may_contact_profile
from seamline.core.prepared import Reads
from seamline.identity.service import active_header

# A communication that never left (waiting, held, refused) does not count against a person's budget.
NOT_CONTACTS = (QUEUED, DEFERRED, SUPPRESSED, FAILED)


def contacts_since(
    session: Session, profile_ids: Sequence[int], since: datetime
) -> list[tuple[datetime, str | None, str, str | None]]:
    """Every communication that reached (or went to) these profiles since a time, ours or another platform's:
    (when, priority, type, purpose), for the fatigue budget."""
    return repository.sent_since(session, profile_ids, since, NOT_CONTACTS) if profile_ids else []


def contacts_since_of(
    reads: Reads, profile_ids: Sequence[int], since: datetime
) -> list[tuple[datetime, str | None, str, str | None]]:
    """contacts_since as hot reads, one prepared statement per profile (a person has one or a few)."""
    return [c for profile_id in profile_ids for c in repository.sent_since_one(reads, profile_id, since, NOT_CONTACTS)]


def channels_that_reach(
    session: Session, profile_id: int, channels: Sequence[str], purpose: str, consent: ConsentConfig
) -> list[str]:
    """Of these channels, in their order, those that reach the person now and that consent allows for a purpose:
    where a message chosen by the channel the customer used may fall back to."""
    root = int(active_header(session, profile_id).id)
    points = contact_points(session, root, list(channels))
    out = []
    for channel in channels:
        reach = points[channel].reach
        if not reach.reachable:
            continue
        if channel in consent.channels and purpose in consent.purposes:
            asked = may_contact_profile(
                session, root, purpose, channel, reachability={channel: reach}, config=consent
            )  # fmt: skip
            if not asked.allowed:
                continue
        out.append(channel)
    return out


def channel_of(session: Session, communication_id: str) -> str | None:
    """The channel a communication (by public id) went by, or None when the log has no such communication."""
    row = repository.by_public_id(session, communication_id)
    return None if row is None else str(row.channel)


def people_of(session: Session, communication_ids: Sequence[str]) -> list[int]:
    """The active profiles these communications (by public id) are addressed to: whom a send-time check is about."""
    rows = repository.by_public_ids(session, communication_ids).values()
    return sorted({int(active_header(session, r.profile_id).id) for r in rows if r.profile_id is not None})


def contacts_by_profile(
    session: Session, profile_ids: Sequence[int], since: datetime
) -> dict[int, list[tuple[datetime, str | None, str, str | None]]]:
    """`contacts_since` of many profiles in one query, per profile (a dispatcher's batch asks for all at once)."""
    out: dict[int, list[tuple[datetime, str | None, str, str | None]]] = {}
    for profile_id, at, priority, type_, purpose in repository.sent_since_by_profile(
        session, profile_ids, since, NOT_CONTACTS
    ):
        out.setdefault(profile_id, []).append((at, priority, type_, purpose))
    return out
