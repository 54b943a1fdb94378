"""Tables of the journeys domain: loaded definitions, instances, what was entered or done in them, resume tokens.

Instances and entries are derived from events (the `Journey …` tracking family; the journey API and the console
write such events too), so an unmerge or rebuild re-derives them exactly: `origin_profile_id` is the profile the
instance began on, `profile_id` the one it lives on now, and `public_id` comes from the event, so it survives a
replay. A merge that brings two open instances of the same journey together joins them: the later one points at
the one kept (`joined_into`) and the kept one's state is read over both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class JourneyDefinitionRow(Base):
    """One loaded definition (the running one for its key)."""

    __tablename__ = "journey_definitions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JourneyInstance(Base):
    """One person's progress through one journey."""

    __tablename__ = "journey_instances"
    __table_args__ = (
        Index("ix_journey_instances_profile", "profile_id", "journey"),
        Index("ix_journey_instances_origin", "origin_profile_id"),
        Index("ix_journey_instances_due", "journey", "status", "last_activity_at"),  # the stall scan
        Index("ix_journey_instances_board", "journey", "status", "current_step"),
        Index("ix_journey_instances_joined", "joined_into"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)
    journey: Mapped[str] = mapped_column(String(64))
    profile_id: Mapped[int] = mapped_column(BigInteger)
    origin_profile_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    current_step: Mapped[str | None] = mapped_column(String(64), nullable=True)
    step_since: Mapped[datetime] = mapped_column(UtcDateTime())  # when the current step became current (SLA)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_channel: Mapped[str] = mapped_column(String(32))
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    quiet_since: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # stalled/abandoned at
    joined_into: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    event_id: Mapped[int] = mapped_column(BigInteger)  # the event that began it


class JourneyEntry(Base):
    """A field saved (kind `field`, a draft until its step completes) or a step completed (kind `step`)."""

    __tablename__ = "journey_entries"
    __table_args__ = (
        Index("ix_journey_entries_instance", "instance_id", "id"),
        Index("ix_journey_entries_collection", "journey", "step", "field"),
        Index("ix_journey_entries_event", "event_id"),  # a save applied at once is skipped by the worker
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(BigInteger)
    journey: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    field: Mapped[str | None] = mapped_column(String(64), nullable=True)
    value_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    channel: Mapped[str] = mapped_column(String(32))
    device: Mapped[str | None] = mapped_column(String(100), nullable=True)
    actor_kind: Mapped[str] = mapped_column(String(16))  # customer | agent | system
    actor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Redundant collection: the golden record already held a value for this field's trait, and whether it differed.
    already_held: Mapped[bool] = mapped_column(Boolean, default=False)
    disagreed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Only to write an entry of an instance that is not flushed yet: the flush inserts the instance first and fills
    # `instance_id` in, so the worker inserts a batch's new instances in one flush rather than one flush each (no
    # foreign key in the schema; never loaded).
    instance: Mapped[JourneyInstance | None] = relationship(
        primaryjoin="foreign(JourneyEntry.instance_id) == JourneyInstance.id", lazy="raise"
    )


class JourneyToken(Base):
    """A resume token: only its digest is stored; it opens one instance for one person until it expires."""

    __tablename__ = "journey_tokens"
    __table_args__ = (Index("ix_journey_tokens_instance", "instance_public_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    instance_public_id: Mapped[str] = mapped_column(String(64))
    profile_id: Mapped[int] = mapped_column(BigInteger)
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
