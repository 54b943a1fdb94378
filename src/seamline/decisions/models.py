"""Tables of the decisions domain: purchases (for "never offer what they just bought"), the outcomes of actions,
and each action's tally per segment (the propensity model's state)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Purchase(Base):
    """A product a person bought, from a purchase event of any channel (one row per event and product)."""

    __tablename__ = "decision_purchases"
    __table_args__ = (Index("ix_decision_purchases_profile", "profile_id", "purchased_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int] = mapped_column(BigInteger)
    product: Mapped[str] = mapped_column(String(100))
    purchased_at: Mapped[datetime] = mapped_column(UtcDateTime())


Index("uq_decision_purchases_event", Purchase.event_id, Purchase.product, unique=True)


class ActionOutcome(Base):
    """What became of an action for a person: shown, accepted, ignored, converted."""

    __tablename__ = "decision_outcomes"
    __table_args__ = (Index("ix_decision_outcomes_profile", "profile_id", "action"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(16))
    segment: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    origin: Mapped[str] = mapped_column(String(32))  # api, console, event
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ActionTally(Base):
    """The propensity model's state: an action's outcomes in one segment (Beta-Bernoulli counts)."""

    __tablename__ = "decision_tallies"

    action: Mapped[str] = mapped_column(String(100), primary_key=True)
    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    shown: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    ignored: Mapped[int] = mapped_column(Integer, default=0)
    converted: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
