"""Queries of the inbox: append, claim in order, mark processed, count progress."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy import insert as insert_into
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from seamline.core.db import table_of
from seamline.core.prepared import DriverTransaction, Prepared
from seamline.ingestion.models import InboxEvent, InboxPartition, InboxProgress, QuarantinedEvent
from seamline.ingestion.wire import PARTITIONS, Envelope


def _insert_ignoring_duplicates(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(InboxEvent).on_conflict_do_nothing(index_elements=["source_id", "message_id"])


_COLUMNS = ["source_id", "message_id", "type", "user_id", "anonymous_id", "partition", "received_at", "payload"]
# A row of append_rows: message id, type, user id, anonymous id, partition, payload (JSON text).
OwnRow = tuple[str, str, str | None, str | None, int, str]


def append_events(conn: Connection, rows: Sequence[tuple[int, datetime, Sequence[Envelope]]]) -> int:
    """Append each request's envelopes; a message id already stored for its source is skipped (idempotency)."""
    # The statement is SQLAlchemy's; the rows go to the driver as they are. SQLAlchemy's per-row parameter
    # processing cost more than SQLite's own work for these rows, and the only value the dialect converts is
    # received_at (SQLite stores it as text), one per request.
    to_db = _received_at_to_db(conn.dialect)
    requests = [(source_id, to_db(at), envelopes) for source_id, at, envelopes in rows]
    values = [
        (source_id, e.message_id, e.type, e.user_id, e.anonymous_id, e.partition, at, e.payload.decode("utf-8"))
        for source_id, at, envelopes in requests
        for e in envelopes
    ]
    return _insert_values(conn, values)


def append_rows(conn: Connection, source_id: int, received_at: datetime, rows: Sequence[OwnRow]) -> int:
    """Append rows of one source received at one time, given as plain tuples (`OwnRow`), as append_events does:
    for a caller that appends many rows of its own and need not build an envelope for each."""
    at = _received_at_to_db(conn.dialect)(received_at)
    return _insert_values(conn, [(source_id, m, t, u, a, p, at, payload) for m, t, u, a, p, payload in rows])


def _received_at_to_db(dialect: Dialect) -> Callable[[datetime], Any]:
    to_db = InboxEvent.__table__.c.received_at.type.dialect_impl(dialect).bind_processor(dialect)
    return to_db if to_db is not None else _as_is


def _as_is(value: datetime) -> Any:
    return value


def _insert_values(conn: Connection, values: Sequence[tuple[Any, ...]]) -> int:
    if not values:
        return 0
    dialect = conn.dialect
    statement = _insert_ignoring_duplicates(dialect.name).compile(
        dialect=dialect, column_keys=_COLUMNS, for_executemany=True
    )
    if statement.positiontup is None:  # named parameters (psycopg)
        named = [dict(zip(_COLUMNS, row, strict=True)) for row in values]
        return max(conn.exec_driver_sql(str(statement), named).rowcount, 0)
    assert statement.positiontup == _COLUMNS, statement.positiontup
    if dialect.name != "sqlite":
        return max(conn.exec_driver_sql(str(statement), values).rowcount, 0)
    # SQLite: many rows per statement. executemany lets go of the GIL around each row's step, and under load each
    # row then waited for the event loop's thread to hand it back: a 300-row commit took 24 ms (p50), up to 670 ms,
    # instead of 1 ms. Chunk sizes are powers of two: few statements per group, and few for the driver to cache.
    one_row = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    sql = str(statement)
    assert sql.count(one_row) == 1, sql
    driver = conn.connection.driver_connection
    most_variables = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if driver is not None else 999
    inserted = start = 0
    for size in (256, 128, 64, 32, 16, 8, 4, 2, 1):
        if size > 1 and size * len(_COLUMNS) > most_variables:
            continue
        while len(values) - start >= size:
            chunk = [value for row in values[start : start + size] for value in row]
            result = conn.exec_driver_sql(sql.replace(one_row, ", ".join([one_row] * size)), tuple(chunk))
            inserted += max(result.rowcount, 0)
            start += size
    return inserted


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
    waiting = select(func.min(InboxEvent.id)).where(
        InboxEvent.partition == InboxPartition.partition, InboxEvent.processed_at.is_(None)
    )
    if has_quarantine(session):
        # A partition whose only pending events wait behind a quarantined one has nothing to give.
        waiting = waiting.where(_not_held(table_of(InboxEvent).c))
    pending = waiting.correlate(InboxPartition).scalar_subquery()
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
        session.execute(update(InboxPartition).where(InboxPartition.partition.in_(partitions)).values(claimed_at=now))
    return partitions


# Plain rows, not ORM objects: the worker reads thousands a second and never changes them through the ORM.
_ITEM_COLUMNS = (InboxEvent.id, InboxEvent.source_id, InboxEvent.type, InboxEvent.payload, InboxEvent.received_at)


# The worker's read: Core columns on the connection (no ORM result setup), and received_at as the driver returns
# it, converted once per distinct value (one request's events share it) rather than once per row.
_EVENTS = table_of(InboxEvent).c
_PENDING_COLUMNS = (
    _EVENTS.id,
    _EVENTS.source_id,
    _EVENTS.type,
    _EVENTS.payload,
    type_coerce(_EVENTS.received_at, NullType()).label("received_at"),
)


@functools.cache
def _received_at_reader(dialect: Dialect) -> Callable[[Any], Any]:
    process = _EVENTS.received_at.type.dialect_impl(dialect).result_processor(dialect, None)
    return process if process is not None else (lambda value: value)


def pending_events(
    session: Session, partitions: list[int] | None, limit: int
) -> list[tuple[int, int, str, str, datetime]]:
    """(id, source_id, type, payload, received_at) of the oldest unprocessed events, in arrival order, of the
    given partitions (all when None)."""
    query = select(*_PENDING_COLUMNS).where(_EVENTS.processed_at.is_(None))
    if partitions is not None:
        query = query.where(_EVENTS.partition.in_(partitions))
    if has_quarantine(session):
        query = query.where(_not_held(_EVENTS))
    conn = session.connection()
    rows = conn.execute(query.order_by(_EVENTS.id).limit(limit)).all()
    read = _received_at_reader(conn.dialect)
    times: dict[Any, datetime] = {}
    out = []
    for event_id, source_id, event_type, payload, raw in rows:
        at = times.get(raw)
        if at is None:
            at = times[raw] = read(raw)
        out.append((event_id, source_id, event_type, payload, at))
    return out


_MARK_PROCESSED = (
    update(table_of(InboxEvent))
    .where(_EVENTS.id.in_(bindparam("ids", expanding=True)))
    .values(processed_at=bindparam("now"))
)


def mark_processed(session: Session, event_ids: Sequence[int], now: datetime) -> int:
    """Mark these events processed; how many of them were still pending."""
    result = session.connection().execute(
        _MARK_PROCESSED.where(_EVENTS.processed_at.is_(None)), {"ids": list(event_ids), "now": now}
    )
    return int(result.rowcount)


@functools.cache
def _progress_upsert(dialect: str) -> Any:
    """The progress upsert for a dialect, built once (building it per call cost more than running it)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = table_of(InboxProgress)
    stmt = insert(table)
    greatest = func.max if dialect == "sqlite" else func.greatest
    return stmt.on_conflict_do_update(
        index_elements=["source_id", "type"],
        set_={
            "processed": table.c.processed + stmt.excluded.processed,
            "last_event_id": greatest(table.c.last_event_id, stmt.excluded.last_event_id),
            "last_processed_at": stmt.excluded.last_processed_at,
        },
    )


def add_progress(session: Session, counts: dict[tuple[int, str], tuple[int, int]], now: datetime) -> None:
    """Add processed counts per (source, type); values are (count, last event id). An upsert, so that two
    workers adding to the same row never collide (rows in key order, so they lock in one order)."""
    if not counts:
        return
    rows = [
        {
            "source_id": source_id,
            "type": event_type,
            "processed": count,
            "last_event_id": last_id,
            "last_processed_at": now,
        }
        for (source_id, event_type), (count, last_id) in sorted(counts.items())
    ]
    session.execute(_progress_upsert(session.get_bind().dialect.name), rows)


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


def events_by_id(session: Session, event_ids: Sequence[int]) -> Sequence[Any]:
    out: list[Any] = []
    for start in range(0, len(event_ids), 900):
        chunk = event_ids[start : start + 900]
        out.extend(session.execute(select(*_ITEM_COLUMNS).where(InboxEvent.id.in_(chunk))).all())
    return sorted(out, key=lambda e: int(e.id))


def processed_after(session: Session, after_id: int, limit: int) -> Sequence[Any]:
    return session.execute(
        select(*_ITEM_COLUMNS)
        .where(InboxEvent.id > after_id, InboxEvent.processed_at.is_not(None))
        .order_by(InboxEvent.id)
        .limit(limit)
    ).all()


def events_by_message_id(session: Session, source_id: int, message_ids: Sequence[str]) -> Sequence[Any]:
    """A source's stored events by message id, in arrival order."""
    return session.execute(
        select(*_ITEM_COLUMNS)
        .where(InboxEvent.source_id == source_id, InboxEvent.message_id.in_(list(message_ids)))
        .order_by(InboxEvent.id)
    ).all()


def replace_payloads(session: Session, payloads: dict[int, str]) -> None:
    """Overwrite events' payloads and empty their person columns."""
    if not payloads:
        return
    table = table_of(InboxEvent)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("event_id"))
        .values(payload=bindparam("new_payload"), user_id=None, anonymous_id=None)
    )
    session.connection().execute(stmt, [{"event_id": k, "new_payload": v} for k, v in payloads.items()])


def lock_all_partitions(session: Session) -> None:
    """PostgreSQL: lock every partition row, in order, waiting for workers that hold some."""
    session.execute(select(InboxPartition.partition).order_by(InboxPartition.partition).with_for_update()).all()


# The quarantine. Empty in normal running, so the worker's reads check that first and keep their plain form.
_QUARANTINE = table_of(QuarantinedEvent)
_HELD = table_of(InboxEvent).alias("held")


def has_quarantine(session: Session) -> bool:
    return session.connection().execute(select(exists().select_from(_QUARANTINE))).scalar() is True


def _not_held(events: Any) -> ColumnElement[bool]:
    """Neither quarantined nor behind a quarantined event of the same person (user id or anonymous id)."""
    behind = (
        select(_QUARANTINE.c.event_id)
        .join(_HELD, _HELD.c.id == _QUARANTINE.c.event_id)
        .where(
            _QUARANTINE.c.event_id <= events.id,
            or_(
                _QUARANTINE.c.event_id == events.id,
                and_(_HELD.c.user_id.is_not(None), _HELD.c.user_id == events.user_id),
                and_(_HELD.c.anonymous_id.is_not(None), _HELD.c.anonymous_id == events.anonymous_id),
            ),
        )
        .correlate_except(_QUARANTINE, _HELD)
    )
    return ~behind.exists()


def add_quarantined(session: Session, event_id: int, reason: str, attempts: int, now: datetime) -> None:
    session.add(QuarantinedEvent(event_id=event_id, reason=reason, attempts=attempts, quarantined_at=now))
    session.flush()


def quarantined(session: Session) -> list[tuple[QuarantinedEvent, int, str, int]]:
    """Each quarantined event with its source id, type, and how many of its person's events wait behind it."""
    later = _EVENTS
    waiting = (
        select(func.count())
        .select_from(table_of(InboxEvent))
        .where(
            later.processed_at.is_(None),
            later.id > _HELD.c.id,
            or_(
                and_(_HELD.c.user_id.is_not(None), later.user_id == _HELD.c.user_id),
                and_(_HELD.c.anonymous_id.is_not(None), later.anonymous_id == _HELD.c.anonymous_id),
            ),
        )
        .correlate(_HELD)
        .scalar_subquery()
    )
    rows = session.execute(
        select(QuarantinedEvent, _HELD.c.source_id, _HELD.c.type, waiting)
        .join(_HELD, _HELD.c.id == QuarantinedEvent.event_id)
        .order_by(QuarantinedEvent.event_id)
    ).all()
    return [(q, int(source_id), str(type_), int(count)) for q, source_id, type_, count in rows]


def release_quarantined(session: Session, event_ids: Sequence[int]) -> int:
    """Take events out of the quarantine (they and their person's events go back to the worker); how many."""
    result: Any = session.execute(delete(_QUARANTINE).where(_QUARANTINE.c.event_id.in_(event_ids)))
    return int(result.rowcount)


def count_quarantined(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_QUARANTINE)) or 0


class _Id(NamedTuple):
    id: int


_APPEND_ONE = Prepared(
    insert_into(table_of(InboxEvent))
    .values(
        {
            name: bindparam(name)
            for name in ("source_id", "message_id", "type", "user_id", "anonymous_id", "partition", "received_at")
        }
        | {"payload": bindparam("payload")}
    )
    .returning(table_of(InboxEvent).c.id),
    _Id,
)


def append_one(bind: DriverTransaction, source_id: int, received_at: datetime, envelope: Envelope) -> int:
    """Append one envelope on a driver transaction (a group committer's) and return its event id."""
    row = _APPEND_ONE.first(
        bind,
        source_id=source_id,
        message_id=envelope.message_id,
        type=envelope.type,
        user_id=envelope.user_id,
        anonymous_id=envelope.anonymous_id,
        partition=envelope.partition,
        received_at=received_at,
        payload=envelope.payload.decode("utf-8"),
    )
    assert row is not None  # an insert returns its row
    return int(row.id)
