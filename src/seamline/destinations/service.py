"""Rules of destinations: register one (with its purpose and subscriptions), pause and resume, publish a change
to every subscriber in the caller's transaction (through the outbox), replay from a time."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from seamline.consent.config import ConsentConfig
from seamline.consent.service import may_process_profile
from seamline.core.clock import isoformat_z, utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.destinations import repository
from seamline.destinations.models import Destination
from seamline.destinations.signing import new_secret
from seamline.destinations.views import PROFILE_CHANGES as PROFILE_CHANGES
from seamline.destinations.views import DestinationView as DestinationView
from seamline.destinations.views import list_destinations as list_destinations
from seamline.destinations.views import target_of as target_of
from seamline.outbox.service import enqueue, release_target, replay_target

WEBHOOK_KIND = "webhook"
ACTIVE, PAUSED = "active", "paused"
ERASED = "profile.erased"
TRAIT_CHANGED, MERGED, UNMERGED = "profile.trait_changed", "profile.merged", "profile.unmerged"
IDENTIFIER_ADDED = "profile.identifier_added"
CONSENT_CHANGED = "profile.consent_changed"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def _is_subscription(value: str) -> bool:
    return value in PROFILE_CHANGES or value == "event.*" or (value.startswith("event.") and len(value) > 6)


def create_destination(
    session: Session, name: str, url: str, *, purpose: str, subscriptions: Sequence[str], consent: ConsentConfig
) -> tuple[DestinationView, str]:
    """Register a destination; returns it and its signing secret (shown once, to give the receiver)."""
    errors = []
    if not _NAME.fullmatch(name):
        errors.append(FieldError("name", "invalid", "lowercase letters, digits, - and _; at most 64"))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        errors.append(FieldError("url", "invalid", "an http or https address"))
    if purpose not in consent.purposes:
        errors.append(FieldError("purpose", "invalid", f"one of {', '.join(consent.purposes)}"))
    bad = [s for s in subscriptions if not _is_subscription(s)]
    if bad or not subscriptions:
        known = ", ".join(PROFILE_CHANGES)
        errors.append(FieldError("subscriptions", "invalid", f"{known}, event.* or event.<Event Name>; not {bad}"))
    if errors:
        raise InvalidInput(errors, "the destination is not valid")
    if repository.by_name(session, name) is not None:
        raise Conflict(f"a destination named {name!r} exists")
    secret, now = new_secret(), utcnow()
    row = repository.add(
        session,
        {
            "name": name,
            "url": url,
            "secret": secret,
            "purpose": purpose,
            "subscriptions": list(dict.fromkeys(subscriptions)),
            "status": ACTIVE,
            "created_at": now,
            "changed_at": now,
        },
    )
    return DestinationView.of(row), secret


def _named(session: Session, name: str) -> Destination:
    row = repository.by_name(session, name)
    if row is None:
        raise NotFound(f"no destination {name!r}")
    return row


def set_paused(session: Session, name: str, *, is_paused: bool) -> DestinationView:
    """Pause (deliveries wait, nothing is dropped) or resume (what waited goes, in order) a destination."""
    row = _named(session, name)
    row.status, row.changed_at = (PAUSED if is_paused else ACTIVE), utcnow()
    session.flush()
    if not is_paused:
        release_target(session, target_of(row.name))
    return DestinationView.of(row)


def replay_since(session: Session, name: str, since: datetime) -> int:
    """Send a destination again everything settled for it since a time; returns how many."""
    return replay_target(session, target_of(_named(session, name).name), since)


def subscribed_types(session: Session) -> frozenset[str]:
    """Everything some destination subscribes to (so a batch nobody listens to skips the work)."""
    return frozenset(s for d in repository.listed(session) for s in d.subscriptions)


def has_event_subscribers(session: Session) -> bool:
    """Whether any destination subscribes to events."""
    return any(s.startswith("event.") for s in subscribed_types(session))


def _subscribes(destination: Destination, type_: str) -> bool:
    subs = destination.subscriptions
    return type_ in subs or (type_.startswith("event.") and "event.*" in subs)


def publish(
    session: Session,
    type_: str,
    profile_id: int | None,
    data: Mapping[str, Any],
    *,
    consent: ConsentConfig,
    occurred_at: datetime | None = None,
    notice_purpose: str | None = None,
) -> int:
    """Put a webhook for every destination subscribed to `type_` in the outbox (it leaves after the caller
    commits). People who did not consent to a destination's purpose are not sent to it; a deletion notice goes to
    every subscriber, and carries no personal data. A change owed to the destinations of `notice_purpose` (a
    withdrawal of the consent they rely on) reaches them without that question, now or at send time. Returns how
    many webhooks were queued."""
    queued = 0
    at = occurred_at or utcnow()
    for destination in repository.listed(session):
        if not _subscribes(destination, type_):
            continue
        is_notice = type_ == ERASED or destination.purpose == notice_purpose
        if (
            not is_notice
            and profile_id is not None
            and not may_process_profile(session, profile_id, destination.purpose, config=consent).allowed
        ):
            continue
        body = {"type": type_, "timestamp": isoformat_z(at), "data": {"profile_id": profile_id, **data}}
        payload: dict[str, Any] = {"destination_id": destination.id, "body": body}
        if is_notice and type_ != ERASED:
            payload["is_notice"] = True
        enqueue(
            session,
            WEBHOOK_KIND,
            target_of(destination.name),
            payload,
            profile_id=None if type_ == ERASED else profile_id,
        )
        queued += 1
    return queued


def announce_erasure(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: tell every destination subscribed to deletions to delete these profiles (no consent is asked: a
    deletion notice is owed to every receiver that has the data)."""
    if not profile_ids:
        return 0
    return publish(session, ERASED, None, {"profile_ids": sorted(profile_ids)}, consent=ConsentConfig())
