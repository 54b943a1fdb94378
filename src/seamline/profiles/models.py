"""Tables of the profiles domain. Every row names the source and event it came from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class ProfileEvent(Base):
    """An inbox event assigned to a profile: the timeline's index (the payload stays in the inbox)."""

    __tablename__ = "profile_events"
    __table_args__ = (Index("ix_profile_events_profile_time", "profile_id", "occurred_at"),)

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    source_id: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TraitValue(Base):
    """One candidate value of one trait from one source, with when it was first and last seen and how often."""

    __tablename__ = "profile_traits"
    __table_args__ = (
        UniqueConstraint("profile_id", "name", "source_id", "value_hash", name="uq_profile_traits_candidate"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    value_json: Mapped[str] = mapped_column(Text)
    value_hash: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(Integer)
    first_event_id: Mapped[int] = mapped_column(BigInteger)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    times_seen: Mapped[int] = mapped_column(Integer)
    # The name the source gave this trait when the canonical model renamed it (`telephone` for phone, `street,
    # postcode` for an address gathered from parts); None when the source used the canonical name.
    source_field: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Holding(Base):
    """A product the customer has in some system: account, card, mortgage, order, subscription."""

    __tablename__ = "holdings"
    __table_args__ = (UniqueConstraint("profile_id", "source_id", "type", "external_id", name="uq_holdings_identity"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(BigInteger, index=True)
    source_id: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    attributes: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    first_event_id: Mapped[int] = mapped_column(BigInteger)
    last_event_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


# The console's name search (until the matcher replaces it): candidates by the first and by the last three letters
# of a value, so a misspelt name still shares one end with the stored one. Written out as SQL so that queries
# naming the same expression (seamline.profiles.repository.name_candidates) match it on SQLite and PostgreSQL.
VALUE_HEAD = "lower(substr(value_json, 1, 4))"
VALUE_TAIL = "lower(substr(value_json, length(value_json) - 3))"
Index("ix_profile_traits_value_head", text(VALUE_HEAD), TraitValue.name)
Index("ix_profile_traits_value_tail", text(VALUE_TAIL), TraitValue.name)
Index("ix_holdings_external_id", Holding.external_id)
