"""Queries of the inbox: append, claim in order, mark processed, count progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from seamline.ingestion.models import InboxEvent, InboxPartition, InboxProgress
from seamline.ingestion.wire import PARTITIONS, Envelope


def _insert_ignoring_duplicates(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(InboxEvent).on_conflict_do_nothing(index_elements=["source_id", "message_id"])


def append_events(conn: Connection, rows: Sequence[tuple[int, datetime, Sequence[Envelope]]]) -> int:
    """Append each request's envelopes; a message id already stored for its source is skipped (idempotency)."""
    params = [
        {
            "source_id": source_id,
            "message_id": e.message_id,
            "type": e.type,
            "user_id": e.user_id,
            "anonymous_id": e.anonymous_id,
            "partition": e.partition,
            "received_at": received_at,
            "payload": e.payload.decode("utf-8"),
        }
        for source_id, received_at, envelopes in rows
        for e in envelopes
    ]
    if not params:
        return 0
    result = conn.execute(_insert_ignoring_duplicates(conn.dialect.name), params)
    return max(result.rowcount, 0)


def ensure_partitions(session: Session) -> None:
    """Create the partition rows workers lock (idempotent; migrations call it too)."""
    existing = set(session.scalars(select(InboxPartition.partition)).all())
    session.add_all(InboxPartition(partition=p) for p in range(PARTITIONS) if p not in existing)
    session.flush()


def claim_partitions(session: Session, limit: int, now: datetime) -> list[int] | None:
    """Lock up to `limit` partitions no other worker holds, those with the oldest pending event first.

    Oldest first keeps one worker close to global arrival order and lets the next worker take the next
    oldest people. Returns None on SQLite, where the database-wide write lock already serializes workers.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    pending = (
        select(func.min(InboxEvent.id))
        .where(InboxEvent.partition == InboxPartition.partition, InboxEvent.processed_at.is_(None))
        .correlate(InboxPartition)
        .scalar_subquery()
    )
    partitions = list(
        session.scalars(
            select(InboxPartition.partition)
            .where(pending.is_not(None))
            .order_by(pending)
            .limit(limit)
            .with_for_update(skip_locked=True, of=InboxPartition)
        ).all()
    )
    if partitions:
        session.execute(
            update(InboxPartition).where(InboxPartition.partition.in_(partitions)).values(claimed_at=now)
        )
    return partitions


def pending_events(session: Session, partitions: list[int] | None, limit: int) -> Sequence[InboxEvent]:
    """The oldest unprocessed events, in arrival order, of the given partitions (all when None)."""
    query = select(InboxEvent).where(InboxEvent.processed_at.is_(None))
    if partitions is not None:
        query = query.where(InboxEvent.partition.in_(partitions))
    return session.scalars(query.order_by(InboxEvent.id).limit(limit)).all()


def mark_processed(session: Session, event_ids: Sequence[int], now: datetime) -> None:
    session.execute(update(InboxEvent).where(InboxEvent.id.in_(event_ids)).values(processed_at=now))


def add_progress(session: Session, counts: dict[tuple[int, str], tuple[int, int]], now: datetime) -> None:
    """Add processed counts per (source, type); values are (count, last event id). An upsert, so that two
    workers adding to the same row never collide."""
    if not counts:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = InboxProgress.__table__  # columns for the SET expressions
    for (source_id, event_type), (count, last_id) in sorted(counts.items()):
        stmt = insert(InboxProgress).values(
            source_id=source_id,
            type=event_type,
            processed=count,
            last_event_id=last_id,
            last_processed_at=now,
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=["source_id", "type"],
                set_={
                    "processed": table.c.processed + stmt.excluded.processed,
                    "last_event_id": func.max(table.c.last_event_id, stmt.excluded.last_event_id)
                    if dialect == "sqlite"
                    else func.greatest(table.c.last_event_id, stmt.excluded.last_event_id),
                    "last_processed_at": stmt.excluded.last_processed_at,
                },
            )
        )


def backlog(session: Session) -> int:
    """How many events wait for the worker."""
    return session.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.processed_at.is_(None))) or 0


def progress_by_source(session: Session) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for row in session.scalars(select(InboxProgress)).all():
        out.setdefault(row.source_id, {})[row.type] = row.processed
    return out


def stored_by_source(session: Session) -> dict[int, int]:
    rows = session.execute(select(InboxEvent.source_id, func.count()).group_by(InboxEvent.source_id)).all()
    return {source_id: count for source_id, count in rows}


def events_by_id(session: Session, event_ids: Sequence[int]) -> Sequence[InboxEvent]:
    out: list[InboxEvent] = []
    for start in range(0, len(event_ids), 900):
        chunk = event_ids[start : start + 900]
        out.extend(session.scalars(select(InboxEvent).where(InboxEvent.id.in_(chunk))).all())
    return sorted(out, key=lambda e: e.id)


def processed_after(session: Session, after_id: int, limit: int) -> Sequence[InboxEvent]:
    return session.scalars(
        select(InboxEvent)
        .where(InboxEvent.id > after_id, InboxEvent.processed_at.is_not(None))
        .order_by(InboxEvent.id)
        .limit(limit)
    ).all()
