"""Tables of the ingestion domain: the append-only inbox and what the worker has processed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid (and so auto-incrementing).
EventId = BigInteger().with_variant(Integer(), "sqlite")


class InboxEvent(Base):
    """One accepted message, exactly as normalized at the edge. Append-only but for its processing mark."""

    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("source_id", "message_id", name="uq_inbox_events_source_message"),
        Index(
            "ix_inbox_events_pending",
            "partition",
            "id",
            sqlite_where=text("processed_at IS NULL"),
            postgresql_where=text("processed_at IS NULL"),
        ),
        # The oldest pending events across all partitions (SQLite's worker, replays): without it the query walks
        # every processed row first, and a long inbox makes each batch slower than the last.
        Index(
            "ix_inbox_events_pending_id",
            "id",
            sqlite_where=text("processed_at IS NULL"),
            postgresql_where=text("processed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    message_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    anonymous_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    partition: Mapped[int] = mapped_column(SmallInteger)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    payload: Mapped[str] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class InboxPartition(Base):
    """One row per partition of the person key; a worker holds a partition's row lock while it processes it."""

    __tablename__ = "inbox_partitions"

    partition: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class InboxProgress(Base):
    """What the worker has processed, per source and event type."""

    __tablename__ = "inbox_progress"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    type: Mapped[str] = mapped_column(String(16), primary_key=True)
    processed: Mapped[int] = mapped_column(BigInteger, default=0)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_processed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class QuarantinedEvent(Base):
    """An event that failed the pipeline repeatedly: kept out of the worker's batches, with the reason, until an
    operator replays or discards it. Its person's later events (same user id or anonymous id) wait behind it."""

    __tablename__ = "inbox_quarantine"

    event_id: Mapped[int] = mapped_column(ForeignKey("inbox_events.id"), primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(String(2000))
    attempts: Mapped[int] = mapped_column(Integer)
    quarantined_at: Mapped[datetime] = mapped_column(UtcDateTime())
