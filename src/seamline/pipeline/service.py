"""One action for every path that resolves events: the worker, corrections and replays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from seamline.core.pipeline import ResolvedBatch
from seamline.identity.batch import BatchOutcome, BatchPlan, Resolved, is_plan_current, plan_batch, write_plan
from seamline.identity.service import EventInput, read_identifiers
from seamline.ingestion.service import InboxItem
from seamline.pipeline.registry import Pipeline
from seamline.privacy.service import is_erased, scrub_events

# What an event naming an erased person keeps while it is resolved (privacy's scrub keeps the same in the inbox).
_ERASED_EVENT_KEYS = ("type", "messageId", "timestamp", "receivedAt")


@dataclass(frozen=True, slots=True)
class PreparedEvents:
    """What `process_events` reads and works out before it writes anything: the erasure check, each event's
    identifiers and identity's plan of the batch. It holds while the change feed's mark is the plan's."""

    items: Sequence[InboxItem]
    plan: BatchPlan | None  # None for no events
    erased_ids: list[int]
    is_replay: bool


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
    return apply_prepared(session, prepare_events(session, items, pipeline, reuse_profiles=reuse_profiles), pipeline)


def prepare_events(
    session: Session,
    items: Sequence[InboxItem],
    pipeline: Pipeline,
    *,
    reuse_profiles: Mapping[int, int] | None = None,
) -> PreparedEvents:
    """The reading half of `process_events`: nothing is written, so it may run in a read transaction (the worker
    does, on SQLite, before it takes the write lock) and be applied in a later one while `is_current`."""
    events = [EventInput(i.id, i.source_id, i.payload, i.received_at) for i in items]
    if not events:
        return PreparedEvents(items, None, [], reuse_profiles is not None)
    extracted = read_identifiers(events, pipeline)
    erased_ids: list[int] = []
    # Tombstones are written only by an erasure, which moves the change feed's mark: a plan that is still current
    # saw every tombstone there is.
    if erased := is_erased(session, list({i for idents, _ in extracted for i in idents})):
        hit = [any(i in erased for i in idents) for idents, _ in extracted]
        erased_ids = [e.id for e, h in zip(events, hit, strict=True) if h]
        events = [_withheld(e) if h else e for e, h in zip(events, hit, strict=True)]
        extracted = [([], []) if h else x for x, h in zip(extracted, hit, strict=True)]
    plan = plan_batch(session, events, pipeline, extracted=extracted, reuse_profiles=reuse_profiles)
    return PreparedEvents(items, plan, erased_ids, reuse_profiles is not None)


def is_current(session: Session, prepared: PreparedEvents) -> bool:
    """Whether events prepared in an earlier transaction may be applied in this one: nothing changed the graph (or
    erased anyone) since. Only a plan read through the worker's graph cache (SQLite) can tell; others never are."""
    return prepared.plan is None or is_plan_current(session, prepared.plan)


def apply_prepared(session: Session, prepared: PreparedEvents, pipeline: Pipeline) -> BatchOutcome:
    """The writing half of `process_events`: identity writes its plan, then each consumer takes the batch."""
    if prepared.plan is None:
        resolved = Resolved(ResolvedBatch((), ()), BatchOutcome())
    else:
        resolved = write_plan(session, prepared.plan, pipeline)
    batch = replace(resolved.batch, is_replay=True) if prepared.is_replay else resolved.batch
    for consumer in pipeline.consumers:
        consumer.take(session, batch)
    resolved.outcome.erased_events = prepared.erased_ids
    scrub_events(session, prepared.erased_ids)
    return resolved.outcome


def _withheld(event: EventInput) -> EventInput:
    kept = {k: event.payload[k] for k in _ERASED_EVENT_KEYS if k in event.payload}
    return EventInput(event.id, event.source_id, kept, event.received_at)
