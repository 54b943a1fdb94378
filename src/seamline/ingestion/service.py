"""Rules of the inbox's processing side: claim in order, process, record progress."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from seamline.core.clock import isoformat_z, utcnow
from seamline.core.errors import Conflict, NotFound
from seamline.core.prepared import DriverTransaction
from seamline.ingestion import repository
from seamline.ingestion.wire import Envelope, Limits, parse_batch, partition_of


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An inbox event handed to the processing steps (identity resolution and whatever follows)."""

    id: int
    source_id: int
    type: str
    payload: dict[str, Any]
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """A worker's batch: the oldest pending events of the partitions it locked (None on SQLite: the whole inbox)."""

    items: list[InboxItem]
    partitions: tuple[int, ...] | None


def claim_batch(session: Session, *, batch_size: int, partitions_per_claim: int) -> Claimed:
    """Lock the partitions with the oldest pending events no other worker holds and read those events, in arrival
    order. On PostgreSQL the partition rows stay locked until the caller commits, so no other worker touches the
    same people's events meanwhile; on SQLite the write lock does the same for the whole inbox."""
    partitions = repository.claim_partitions(session, partitions_per_claim, utcnow())
    if partitions == []:
        return Claimed([], ())
    events = repository.pending_events(session, partitions, batch_size)
    return Claimed([_item(e) for e in events], tuple(partitions) if partitions is not None else None)


class AlreadyProcessed(Exception):
    """Some of a batch's events were processed by someone else since the batch read them: roll it back."""


def finish_batch(session: Session, items: Sequence[InboxItem]) -> None:
    """Mark a processed batch's events processed and add them to the progress counts; AlreadyProcessed when one of
    them no longer waited (the batch was read before another worker's commit), so that nothing is applied twice."""
    now = utcnow()
    marked = repository.mark_processed(session, [item.id for item in items], now)
    if marked != len(items):
        raise AlreadyProcessed(f"{len(items) - marked} of the batch's {len(items)} events were processed meanwhile")
    repository.add_progress(session, _progress_counts(items), now)


def _progress_counts(items: Sequence[InboxItem]) -> dict[tuple[int, str], tuple[int, int]]:
    """Per (source, type): how many, and the last event id."""
    counts: dict[tuple[int, str], tuple[int, int]] = {}
    for item in items:
        count, last = counts.get((item.source_id, item.type), (0, 0))
        counts[(item.source_id, item.type)] = (count + 1, max(last, item.id))
    return counts


def prepare_inbox(session: Session) -> None:
    """Make sure the partition rows that workers lock exist."""
    repository.ensure_partitions(session)


@dataclass(frozen=True, slots=True)
class InboxStatus:
    backlog: int
    stored_by_source: dict[int, int]
    processed_by_source: dict[int, dict[str, int]]


def inbox_status(session: Session) -> InboxStatus:
    return InboxStatus(
        backlog=repository.backlog(session),
        stored_by_source=repository.stored_by_source(session),
        processed_by_source=repository.progress_by_source(session),
    )


@dataclass(frozen=True, slots=True)
class Quarantined:
    """An event the worker set aside after it failed repeatedly, and its person's events that wait behind it."""

    event_id: int
    source_id: int
    type: str
    reason: str
    attempts: int
    quarantined_at: datetime
    waiting: int


MAX_REASON = 2000


def quarantine_event(session: Session, event_id: int, reason: str, attempts: int) -> None:
    """Set an event aside with why it failed; its person's later events wait behind it until it is released."""
    repository.add_quarantined(session, event_id, reason[:MAX_REASON], attempts, utcnow())


def quarantined_events(session: Session) -> list[Quarantined]:
    """Every quarantined event, oldest first."""
    return [
        Quarantined(q.event_id, source_id, type_, q.reason, q.attempts, q.quarantined_at, waiting)
        for q, source_id, type_, waiting in repository.quarantined(session)
    ]


def _chosen(session: Session, event_ids: Sequence[int] | None) -> list[int]:
    known = [q.event_id for q in quarantined_events(session)]
    if event_ids is None:
        return known
    missing = sorted(set(event_ids) - set(known))
    if missing:
        raise NotFound(f"not in the quarantine: {', '.join(map(str, missing))}")
    return list(event_ids)


def replay_quarantined(session: Session, event_ids: Sequence[int] | None = None) -> list[int]:
    """Give quarantined events (all when None) back to the worker, in their place in arrival order."""
    chosen = _chosen(session, event_ids)
    repository.release_quarantined(session, chosen)
    return chosen


def discard_quarantined(session: Session, event_ids: Sequence[int]) -> list[int]:
    """Mark quarantined events processed without processing them: their person's events go on without them.

    The events stay in the inbox (a rebuild would run them again)."""
    chosen = _chosen(session, event_ids)
    repository.release_quarantined(session, chosen)
    repository.mark_processed(session, chosen, utcnow())
    return chosen


# How many events are quarantined (a gauge read at scrape time).
quarantine_size = repository.count_quarantined


# Events accepted and not yet processed.
backlog = repository.backlog


def _item(row: Any) -> InboxItem:
    # Positional unpacking: a row's attribute lookups cost more than the JSON parse at worker rates.
    event_id, source_id, event_type, payload, received_at = row
    return InboxItem(event_id, source_id, event_type, orjson.loads(payload), received_at)


def load_events(session: Session, event_ids: Sequence[int]) -> list[InboxItem]:
    """Stored events by id, in arrival order (for a replay)."""
    return [_item(e) for e in repository.events_by_id(session, event_ids)]


def processed_events(session: Session, *, after_id: int, limit: int) -> list[InboxItem]:
    """Processed events after an id, in arrival order: the log a rebuild replays."""
    return [_item(e) for e in repository.processed_after(session, after_id, limit)]


def scrub_events(session: Session, event_ids: Sequence[int], keep: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    """Erasure: replace stored events with what `keep` leaves of them, and empty their person columns."""
    items = load_events(session, event_ids)
    repository.replace_payloads(session, {i.id: orjson.dumps(keep(i.payload)).decode() for i in items})
    return len(items)


def hold_processing(session: Session) -> None:
    """Stop every worker until the caller's transaction ends: waits for batches in flight to commit, then keeps
    every partition locked, so no event is resolved meanwhile (an erasure must not race one about its person).

    On SQLite the caller's write transaction already excludes every worker.
    """
    if session.get_bind().dialect.name == "postgresql":
        repository.lock_all_partitions(session)


def append_messages(
    conn: Connection, source_id: int, received_at: datetime, messages: Sequence[dict[str, Any]], limits: Limits
) -> int:
    """Validate messages as the tracking API does (all or none), append them, and return how many were new."""
    if not messages:
        return 0
    envelopes = parse_batch({"batch": list(messages)}, received_at, limits)
    return repository.append_events(conn, [(source_id, received_at, envelopes)])


def append_own(
    conn: Connection, source_id: int, received_at: datetime, messages: Sequence[dict[str, Any]], limits: Limits
) -> int:
    """Append messages Seamline builds itself, all of one shape (its own announcements, such as `Journey
    Stalled`), in one bulk insert: the first is validated as the tracking API would, and each is normalized as
    the API would store it (receivedAt, timestamp, partition) without being checked again. Returns how many were
    new. A caller passes only messages it made from checked values: ids the identity graph holds, its own names."""
    if not messages:
        return 0
    parse_batch({"batch": [messages[0]]}, received_at, limits)  # the shape holds
    text = isoformat_z(received_at)
    # Plain rows, not an Envelope each (a frozen dataclass's construction per row, then a tuple made of it): with
    # append_rows, appending the stall scan's 200,000 took ~1.2 s of CPU instead of ~2.0.
    rows: list[repository.OwnRow] = []
    for message in messages:
        user_id, anonymous_id = message.get("userId"), message.get("anonymousId")
        stored = {**message, "receivedAt": text, "timestamp": message.get("timestamp", text)}
        partition = partition_of(str(anonymous_id if anonymous_id is not None else user_id))
        rows.append(
            (message["messageId"], message["type"], user_id, anonymous_id, partition, orjson.dumps(stored).decode())
        )
    return repository.append_rows(conn, source_id, received_at, rows)


def append_unprocessed(
    session: Session, source_id: int, messages: Sequence[dict[str, Any]], *, limits: Limits | None = None
) -> list[InboxItem]:
    """Append messages for the worker to process, and return them as stored (with their ids): for a caller that
    applies at once the part the answer must show and leaves the rest of the pipeline to the worker (a journey
    save). Duplicates of stored message ids are refused (Conflict)."""
    now = utcnow()
    parsed = parse_batch({"batch": list(messages)}, now, limits or Limits())
    added = repository.append_events(session.connection(), [(source_id, now, parsed)])
    if added != len(parsed):
        raise Conflict("a message with this id was already stored")
    return [_item(e) for e in repository.events_by_message_id(session, source_id, [e.message_id for e in parsed])]


def append_processed(
    session: Session, source_id: int, messages: Sequence[dict[str, Any]], *, limits: Limits | None = None
) -> list[InboxItem]:
    """Append messages that the caller processes itself in this transaction, already marked processed.

    For changes a person makes and expects to see at once (a console correction): the event is kept like any
    other, so a replay re-derives it, but it does not wait for a worker. Duplicates of stored message ids are
    refused (Conflict), since the caller would otherwise process an event twice.
    """
    now = utcnow()
    parsed = parse_batch({"batch": list(messages)}, now, limits or Limits())
    added = repository.append_events(session.connection(), [(source_id, now, parsed)])
    if added != len(parsed):
        raise Conflict("a message with this id was already stored")
    items = [_item(e) for e in repository.events_by_message_id(session, source_id, [e.message_id for e in parsed])]
    repository.mark_processed(session, [item.id for item in items], now)
    repository.add_progress(session, _progress_counts(items), now)
    return items


def append_checked(bind: DriverTransaction, source_id: int, received_at: datetime, envelope: Envelope) -> int:
    """Append one message `parse_batch` checked, for the worker to process, on a driver transaction (a group
    committer's, so it commits with what the caller writes beside it); returns its event id. For a caller that
    applies at once the part its answer must show (a journey save through the API)."""
    return repository.append_one(bind, source_id, received_at, envelope)
