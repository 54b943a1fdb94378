"""Destinations' consumer of resolved events: each tracked event goes to the destinations subscribed to
`event.<Event Name>` (or `event.*`), for the people who consented to their purpose, through the outbox in the
batch's own transaction. Profile changes (`profile.*`) are published by the steps that make them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.consent.config import ConsentConfig
from seamline.core.pipeline import Consumer, ResolvedBatch
from seamline.destinations.service import has_event_subscribers, publish

# What a destination receives of an event: the Segment fields that say what happened, never the whole context
# (IP addresses, user agents and library details stay in Seamline).
EVENT_FIELDS = ("type", "event", "name", "properties", "messageId", "timestamp")


@dataclass(frozen=True, slots=True)
class ResolvedEvent:
    event_id: int
    profile_id: int
    payload: Mapping[str, Any]
    occurred_at: datetime


def publish_events(session: Session, events: Sequence[ResolvedEvent], *, consent: ConsentConfig) -> int:
    """Queue a webhook per subscribed destination for each track event; returns how many were queued."""
    if not events or not has_event_subscribers(session):
        return 0
    queued = 0
    for event in events:
        payload = event.payload
        if payload.get("type") != "track" or not payload.get("event"):
            continue
        data = {"event_id": event.event_id, **{k: payload[k] for k in EVENT_FIELDS if k in payload}}
        queued += publish(
            session, f"event.{payload['event']}", event.profile_id, data, consent=consent, occurred_at=event.occurred_at
        )
    return queued


class DestinationsConsumer(Consumer):
    """Registered in the event pipeline: each batch's tracked events go to the destinations subscribed to them.

    A replay (unmerge, rebuild) announces nothing: its events reached the destinations when they were first taken.
    """

    name = "destinations"

    def __init__(self, consent: ConsentConfig) -> None:
        self.consent = consent  # a destination receives only the people who consented to its purpose

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        if batch.is_replay:
            return
        tracked = [
            ResolvedEvent(e.id, e.profile_id, e.payload, e.occurred_at)
            for e in batch.events
            if e.payload.get("type") == "track"
        ]
        publish_events(session, tracked, consent=self.consent)
