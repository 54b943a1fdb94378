"""Tables of the cases domain: cases, their thread of entries (messages, notes and what happened), and the
versions of their handoff summary.

A case names two profiles: `origin_profile_id`, where it was opened, which never changes, and `profile_id`,
the profile it lives on now. A merge moves `profile_id` to the survivor; an unmerge sets it back to the
origin before the replay re-merges what still belongs together (the consent ledger's rule), so each side of an
undone merge gets exactly its own cases back. Assignees and authors are names, not keys: console users live
in another domain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Case(Base):
    """One support matter of one customer."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_profile", "profile_id", "status"),
        Index("ix_cases_origin", "origin_profile_id"),
        Index("ix_cases_queue", "queue", "status"),
        Index("ix_cases_assignee", "assignee", "status"),
        Index("ix_cases_journey", "journey_instance_id"),  # a journey's case, found by its handoff and stall scan
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    origin_profile_id: Mapped[int] = mapped_column(BigInteger)
    subject: Mapped[str] = mapped_column(String(300))
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    queue: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    opened_by: Mapped[str] = mapped_column(String(200))
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    escalated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    escalation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    escalated_from_queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Kept current on every change so that queues can filter overdue cases in SQL; see cases/sla.py.
    first_response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The journey the case hands over (an agent taking over a journey): its public instance id and the step it
    # was at. A name, not a key: journeys live in another domain.
    journey_instance_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    journey_step: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CaseEntry(Base):
    """One item of a case's thread: a message or note from any channel, or a record of a change (kind event)."""

    __tablename__ = "case_entries"
    __table_args__ = (Index("ix_case_entries_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(16))
    author_kind: Mapped[str] = mapped_column(String(16))
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The status the case entered with this entry, when it changed: the SLA clock's timeline.
    status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    surface: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CaseHandoff(Base):
    """One version of a case's handoff summary; the highest version is the current one."""

    __tablename__ = "case_handoffs"
    __table_args__ = (UniqueConstraint("case_id", "version", name="uq_case_handoffs_case_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    version: Mapped[int] = mapped_column(Integer)
    verified: Mapped[str] = mapped_column(Text)
    customer_said: Mapped[str] = mapped_column(Text)
    tried: Mapped[str] = mapped_column(Text)
    next_step: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    surface: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
