"""Tables of communication errors: each report, the communications it is about, problems (errors sharing a root
cause), a problem's other recipients (its blast radius, once acted on) and the timeline of both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class CommError(Base):
    """One report that a communication was wrong: what was wrong, the harm and severity it was given (and why),
    its owner, clocks and escalation level, and how it ended."""

    __tablename__ = "comm_errors"
    __table_args__ = (
        # The queue: open errors, most severe first, soonest due first (a 100,000-error queue reads one page).
        Index("ix_comm_errors_queue", "is_open", "severity_rank", "resolve_due_at", "id"),
        # The worker's clock checks read only the errors with something due.
        Index("ix_comm_errors_next_check", "next_check_at"),
        Index("ix_comm_errors_profile", "profile_id"),
        Index("ix_comm_errors_problem", "problem_id"),
        Index("ix_comm_errors_reported", "reported_at"),
        UniqueConstraint("external_ref", name="uq_comm_errors_external_ref"),
        Index("ix_comm_errors_resent", "resent_communication_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the customer who was sent it
    case_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    intake: Mapped[str] = mapped_column(String(16))  # console, api, import, external
    reporter: Mapped[str] = mapped_column(String(200))
    external_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)  # a sampling file's or system's id
    field: Mapped[str] = mapped_column(String(100))
    shown: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # personal: emptied on erasure
    expected: Mapped[str | None] = mapped_column(String(1000), nullable=True)  # personal: emptied on erasure
    description: Mapped[str | None] = mapped_column(String(2000), nullable=True)  # personal: emptied on erasure
    harm: Mapped[str] = mapped_column(String(40))
    customers_affected: Mapped[int] = mapped_column(Integer)
    is_vulnerable: Mapped[bool] = mapped_column(Boolean)
    severity: Mapped[str] = mapped_column(String(16))
    severity_rank: Mapped[int] = mapped_column(Integer)
    severity_reason: Mapped[str] = mapped_column(String(500))
    owner_team: Mapped[str] = mapped_column(String(64))
    # What the first communication says about the cause: copied so problems and reports group without a join.
    template: Mapped[str | None] = mapped_column(String(100), nullable=True)
    template_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    batch: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source_system: Mapped[str | None] = mapped_column(String(100), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # open, acknowledged, resolved, fixed
    is_open: Mapped[bool] = mapped_column(Boolean)
    resolution: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    correction_event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # The communication it was corrected and re-sent as (its id in the communications log).
    resent_communication_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    problem_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    acknowledge_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolve_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledge_missed: Mapped[bool] = mapped_column(Boolean, default=False)
    resolve_missed: Mapped[bool] = mapped_column(Boolean, default=False)
    regulatory_clock: Mapped[str | None] = mapped_column(String(40), nullable=True)
    regulatory_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    regulatory_warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    regulatory_warned: Mapped[bool] = mapped_column(Boolean, default=False)
    regulatory_done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    next_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CommErrorCommunication(Base):
    """A communication an error report is about (one report may name several)."""

    __tablename__ = "comm_error_communications"
    __table_args__ = (
        UniqueConstraint("error_id", "communication_row_id", name="uq_comm_error_communications"),
        Index("ix_comm_error_communications_profile", "profile_id"),
        # A customer's communications list shows the errors raised on each.
        Index("ix_comm_error_communications_communication", "communication_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    error_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("comm_errors.id", ondelete="CASCADE"))
    communication_row_id: Mapped[int] = mapped_column(BigInteger)
    communication_id: Mapped[str] = mapped_column(String(100))
    profile_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Problem(Base):
    """Errors that share a root cause (template and version, batch, data feed, field), with the cause and the fix
    once known."""

    __tablename__ = "problems"
    __table_args__ = (Index("ix_problems_signature", "signature", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    signature: Mapped[str] = mapped_column(String(500))  # what its errors share, as a matching key
    grouped_by: Mapped[str] = mapped_column(String(32))  # template_batch, template, feed, field, manual
    title: Mapped[str] = mapped_column(String(300))
    template: Mapped[str | None] = mapped_column(String(100), nullable=True)
    template_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    batch: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source_system: Mapped[str | None] = mapped_column(String(100), nullable=True)
    field: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # open, closed
    is_reopened: Mapped[bool] = mapped_column(Boolean, default=False)
    root_cause: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    corrective_action: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ProblemRecipient(Base):
    """Someone else a problem's cause reached (its blast radius), once acted on: the notice sent and its outcome."""

    __tablename__ = "problem_recipients"
    __table_args__ = (
        UniqueConstraint("problem_id", "communication_row_id", name="uq_problem_recipients"),
        Index("ix_problem_recipients_profile", "profile_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    problem_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("problems.id", ondelete="CASCADE"))
    communication_row_id: Mapped[int] = mapped_column(BigInteger)  # the wrong communication they received
    profile_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    notice_communication_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # notified, skipped
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    acted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CommErrorEvent(Base):
    """One step of an error's or a problem's timeline (reported, notified, escalated, joined, closed…); details
    never hold the personal content of the report."""

    __tablename__ = "comm_error_events"
    __table_args__ = (
        Index("ix_comm_error_events_error", "error_id", "id"),
        Index("ix_comm_error_events_problem", "problem_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    error_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    problem_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
