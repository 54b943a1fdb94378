"""Destinations' consumer of resolved events: each tracked event goes to the destinations subscribed to
`event.<Event Name>` (or `event.*`), and the batch's profile changes to those subscribed to them:
`profile.trait_changed` for traits an event states (in the canonical model's names), `profile.identifier_added` for
each identifier linked to a profile for the first time, `profile.merged` for each merge of two existing profiles.
Only people who consented to a destination's purpose are sent to it, through the outbox in the batch's own
transaction. An unmerge and an erasure publish theirs from the steps that make them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.consent.config import ConsentConfig
from seamline.core.pipeline import Consumer, ResolvedBatch
from seamline.destinations.service import (
    IDENTIFIER_ADDED,
    MERGED,
    TRAIT_CHANGED,
    has_event_subscribers,
    publish,
    subscribed_types,
)

Canonical = Callable[[Mapping[str, Any]], Mapping[str, Any]]  # a source's traits in the canonical model's names

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

    def __init__(self, consent: ConsentConfig, canonical: Canonical | None = None) -> None:
        self.consent = consent  # a destination receives only the people who consented to its purpose
        self.canonical = canonical or dict

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        if batch.is_replay:
            return
        wanted = subscribed_types(session)
        if not wanted:
            return
        if any(t.startswith("event.") for t in wanted):
            tracked = [
                ResolvedEvent(e.id, e.profile_id, e.payload, e.occurred_at)
                for e in batch.events
                if e.payload.get("type") == "track"
            ]
            publish_events(session, tracked, consent=self.consent)
        if TRAIT_CHANGED in wanted:
            self._traits(session, batch)
        if IDENTIFIER_ADDED in wanted:
            for added in batch.identifiers_added:
                data = {"identifier": {"type": added.type, "value": added.value}, "event_id": added.event_id}
                publish(session, IDENTIFIER_ADDED, added.profile_id, data, consent=self.consent)
        if MERGED in wanted:
            for merge in batch.merges:
                if merge.absorbed_is_new:  # a profile born in this batch and joined at once: nothing outside knew it
                    continue
                data = {"absorbed_profile_id": merge.absorbed, "event_id": merge.event_id}
                publish(session, MERGED, merge.survivor, data, consent=self.consent)

    def _traits(self, session: Session, batch: ResolvedBatch) -> None:
        home = _homes(batch)
        for event in batch.events:
            traits = event.payload.get("traits") if event.payload.get("type") == "identify" else None
            if not isinstance(traits, Mapping) or not traits:
                continue
            data = {"traits": dict(self.canonical(traits)), "source_id": event.source_id, "event_id": event.id}
            profile_id = home.get(event.profile_id, event.profile_id)
            publish(session, TRAIT_CHANGED, profile_id, data, consent=self.consent, occurred_at=event.occurred_at)


def _homes(batch: ResolvedBatch) -> dict[int, int]:
    """Where each profile the batch merged away ended up (following merges made later in the batch)."""
    home: dict[int, int] = {}
    for merge in batch.merges:
        home[merge.absorbed] = merge.survivor
        for absorbed, survivor in home.items():
            if survivor == merge.absorbed:
                home[absorbed] = merge.survivor
    return home
