"""Tables of the triggers domain.

- `trigger_firings`: one row per rule, person and occurrence key. Its unique key is the once-per-person guarantee:
  it is inserted in the transaction of the batch that fired it, so a retried batch or a second worker racing on
  the same person cannot fire the rule again (the second insert waits for the first, then finds it).
- `trigger_hits`: matching events of rules that count (a third complaint in 30 days), per person and group.
- `trigger_cursors`: how far the case changes have been read (a row lock makes one worker read them at a time).
- `trigger_steps`: every action a firing asked for, done at once or waiting for its due time (claimed by the
  worker with row locks), cancelled by an exit event, or failed with its reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class TriggerFiring(Base):
    __tablename__ = "trigger_firings"
    __table_args__ = (
        UniqueConstraint("rule", "profile_id", "key", name="uq_trigger_firings_once"),
        Index("ix_trigger_firings_profile", "profile_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(100))
    profile_id: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TriggerHit(Base):
    __tablename__ = "trigger_hits"
    __table_args__ = (
        Index("ix_trigger_hits_count", "rule", "profile_id", "grouping", "occurred_at"),
        Index("ix_trigger_hits_profile", "profile_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(100))
    profile_id: Mapped[int] = mapped_column(BigInteger)
    grouping: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TriggerStep(Base):
    __tablename__ = "trigger_steps"
    __table_args__ = (
        Index("ix_trigger_steps_due", "status", "due_at"),
        Index("ix_trigger_steps_profile", "profile_id", "rule", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    firing_id: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(100))
    profile_id: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the action's data, references filled in
    fired_with: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the starting event's properties
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))  # pending | done | cancelled | failed
    result: Mapped[str | None] = mapped_column(String(500), nullable=True)  # communication id, task id, reason
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class TriggerCursor(Base):
    """How far the triggers have read a feed that is not an event (the cases' changes): one row per feed."""

    __tablename__ = "trigger_cursors"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
