"""Tables of the tasks domain: work for a person (a call to make, a document to check), routed to a queue.

Like a case, a task names two profiles: `origin_profile_id`, the customer it was made for, which never changes,
and `profile_id`, the profile that customer lives on now (a merge moves it; an unmerge puts it back first).
Assignees are names, not keys: console users live in another domain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Task(Base):
    """One piece of work for a person about one customer."""

    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_queue", "queue", "status", "due_at"),
        Index("ix_tasks_profile", "profile_id", "status"),
        Index("ix_tasks_origin", "origin_profile_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    origin_profile_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    queue: Mapped[str] = mapped_column(String(64))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200))  # "rule:NAME", or the user or key that made it
    rule: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The context a person needs to act: the journey instance, the case, the communications, what happened.
    journey_instance_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    communication_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    picked_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    outcome_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    follow_up_of: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the task this one follows up
