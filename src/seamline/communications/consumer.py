"""The communications log's consumer of resolved events: the `Communication *` tracking family, by which any SDK
reports what another platform sent and what became of it.

| event | properties (besides `communication_id`, required) | logged as |
| --- | --- | --- |
| Communication Sent | type, template, batch, platform, channel, source_system (and optionally | a new communication, |
|                    | campaign, template_version, address, subject, fields)                | `sent`               |
| Communication Delivered | | `delivered` |
| Communication Bounced | bounce_type: hard (default) or soft, reason, address | `bounced_hard` / `bounced_soft` |
| Communication Opened | | `opened` |
| Communication Clicked | url | `clicked` |
| Communication Complained | | `complained` |

A hard bounce or a complaint closes the contact point (the address given, else the one the communication went
to). Each event is logged once: a replay (after an unmerge) finds it already there. An outcome that arrives before
its send makes a stub the send completes. Problems are reported per event, never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.communications import repository
from seamline.communications.service import (
    BOUNCED_HARD,
    BOUNCED_SOFT,
    CLICKED,
    COMPLAINED,
    DELIVERED,
    OPENED,
    SENT,
    ExternalCommunication,
    Happened,
    log_external,
    record_outcomes,
)
from seamline.core.errors import FieldError
from seamline.core.pipeline import Consumer, ResolvedBatch

log = logging.getLogger(__name__)

EVENTS = {
    "Communication Sent": SENT,
    "Communication Delivered": DELIVERED,
    "Communication Bounced": BOUNCED_HARD,
    "Communication Opened": OPENED,
    "Communication Clicked": CLICKED,
    "Communication Complained": COMPLAINED,
}


@dataclass(frozen=True, slots=True)
class ResolvedEvent:
    """One event after identity resolution: its id, the profile it belongs to, its payload and when it happened."""

    event_id: int
    profile_id: int
    payload: Mapping[str, Any]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Consumed:
    communications: int  # new communications in the log
    outcomes: int  # outcomes logged
    errors: tuple[FieldError, ...]  # per event: index = its place in the batch


def _text(props: Mapping[str, Any], key: str, limit: int = 100) -> str | None:
    value = props.get(key)
    return None if value is None or value == "" else str(value)[:limit]


def record_communication_events(session: Session, events: Sequence[ResolvedEvent]) -> Consumed:
    """Log the `Communication *` events of a resolved batch (others are ignored)."""
    errors: list[FieldError] = []
    items: list[tuple[int, ResolvedEvent, str, Mapping[str, Any]]] = []
    for index, event in enumerate(events):
        payload = event.payload
        outcome = EVENTS.get(str(payload.get("event"))) if payload.get("type") == "track" else None
        if outcome is None:
            continue
        props = payload.get("properties")
        props = props if isinstance(props, Mapping) else {}
        if not _text(props, "communication_id"):
            errors.append(FieldError("properties.communication_id", "required", "names the communication", index))
            continue
        items.append((index, event, outcome, props))
    seen = repository.seen_events(session, [e.event_id for _, e, _, _ in items])
    items = [item for item in items if item[1].event_id not in seen]
    logged = [
        ExternalCommunication(
            communication_id=str(_text(props, "communication_id")),
            profile_id=event.profile_id,
            type=(_text(props, "type", 32) or "unknown") if outcome == SENT else "unknown",
            channel=_text(props, "channel", 32) or "email",
            platform=_text(props, "platform") or "unknown",
            template=_text(props, "template"),
            template_version=_text(props, "template_version", 32),
            batch=_text(props, "batch"),
            campaign=_text(props, "campaign"),
            source_system=_text(props, "source_system"),
            address=_text(props, "address", 320),
            subject=_text(props, "subject", 500),
            fields=props.get("fields") if isinstance(props.get("fields"), Mapping) else None,
            occurred_at=event.occurred_at,
        )
        for _, event, outcome, props in items
    ]
    # Outcomes first need their communication: a send makes it, an early outcome makes a stub.
    added = log_external(session, [c for c, (_, _, o, _) in zip(logged, items, strict=True) if o == SENT])
    stubs = [
        ExternalCommunication(c.communication_id, c.profile_id, "unknown", c.channel, c.platform,
                              occurred_at=c.occurred_at)
        for c, (_, _, o, _) in zip(logged, items, strict=True) if o != SENT
    ]  # fmt: skip
    added += log_external(session, stubs)
    happened = []
    for _, event, outcome, props in items:
        if outcome == BOUNCED_HARD and str(props.get("bounce_type", "hard")).lower() == "soft":
            outcome = BOUNCED_SOFT
        detail = _text(props, "reason", 1000) or _text(props, "url", 1000)
        happened.append(
            Happened(
                str(_text(props, "communication_id")),
                outcome,
                detail,
                "event",
                _text(props, "address", 320),
                event.occurred_at,
                event.event_id,
            )
        )
    return Consumed(added, record_outcomes(session, happened), tuple(errors))


class CommunicationsConsumer(Consumer):
    """Registered in the event pipeline: every resolved batch's `Communication *` events go into the log.

    A communication stays on the profile its event was made on; readers gather a person's merged profiles, so
    merges and unmerges need nothing here, and a replay finds each event already logged.
    """

    name = "communications"

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        found = [ResolvedEvent(e.id, e.profile_id, e.payload, e.occurred_at) for e in batch.tracked(EVENTS)]
        if found:
            consumed = record_communication_events(session, found)
            for error in consumed.errors:
                log.warning(
                    "communication event %s: %s %s", found[error.index or 0].event_id, error.field, error.message
                )
