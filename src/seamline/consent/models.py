"""Tables of the consent domain: the append-only ledger of choices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class ConsentChoice(Base):
    """One version of one choice. Rows are only ever added; a merge moves `profile_id`, never `origin_profile_id`."""

    __tablename__ = "consent_choices"
    __table_args__ = (
        Index("ix_consent_choices_profile", "profile_id", "kind", "purpose"),
        Index("ix_consent_choices_origin", "origin_profile_id"),
        Index("ix_consent_choices_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    origin_profile_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(32), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    product: Mapped[str | None] = mapped_column(String(200), nullable=True)
    document_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    value: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    surface: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    legal_basis: Mapped[str | None] = mapped_column(String(32), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ConsentChange(Base):
    """One new version of a choice, named in the transaction that recorded it: the consent change feed that
    destinations follow to announce each change once (see consent/feed.py)."""

    __tablename__ = "consent_changes"
    __table_args__ = (Index("ix_consent_changes_txid", "txid", "seq"), {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # PostgreSQL: the writing transaction's id (rows commit out of seq order there); SQLite: none.
    txid: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    choice_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ConsentFeedReader(Base):
    """Where one reader of the feed has read up to: (txid, seq) of the last change it took (txid 0 on SQLite)."""

    __tablename__ = "consent_feed_readers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
