"""One action for every path that resolves events: the worker, corrections and replays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy.orm import Session

from seamline.identity.service import BatchOutcome, EventInput, read_identifiers, resolve_batch
from seamline.ingestion.service import InboxItem
from seamline.pipeline.registry import Pipeline
from seamline.privacy.service import is_erased, scrub_events

# What an event naming an erased person keeps while it is resolved (privacy's scrub keeps the same in the inbox).
_ERASED_EVENT_KEYS = ("type", "messageId", "timestamp", "receivedAt")


def process_events(
    session: Session,
    items: Sequence[InboxItem],
    pipeline: Pipeline,
    *,
    reuse_profiles: Mapping[int, int] | None = None,
) -> BatchOutcome:
    """Resolve events (in the order given) into the graph, then hand the resolved batch to every registered
    consumer in order, all in the caller's transaction.

    An event carrying an identifier of an erased person is resolved as an anonymous event with no facts, and
    scrubbed from the inbox, so a late or replayed event cannot bring the person back. `reuse_profiles` maps an
    event id to the profile id it created before (a replay keeps re-derived profiles' ids).
    """
    events = [EventInput(i.id, i.source_id, i.payload, i.received_at) for i in items]
    extracted = read_identifiers(events, pipeline)
    erased_ids: list[int] = []
    if erased := is_erased(session, list({i for idents, _ in extracted for i in idents})):
        hit = [any(i in erased for i in idents) for idents, _ in extracted]
        erased_ids = [e.id for e, h in zip(events, hit, strict=True) if h]
        events = [_withheld(e) if h else e for e, h in zip(events, hit, strict=True)]
        extracted = [([], []) if h else x for x, h in zip(extracted, hit, strict=True)]
    resolved = resolve_batch(session, events, pipeline, extracted=extracted, reuse_profiles=reuse_profiles)
    batch = replace(resolved.batch, is_replay=True) if reuse_profiles is not None else resolved.batch
    for consumer in pipeline.consumers:
        consumer.take(session, batch)
    resolved.outcome.erased_events = erased_ids
    scrub_events(session, erased_ids)
    return resolved.outcome


def _withheld(event: EventInput) -> EventInput:
    kept = {k: event.payload[k] for k in _ERASED_EVENT_KEYS if k in event.payload}
    return EventInput(event.id, event.source_id, kept, event.received_at)
