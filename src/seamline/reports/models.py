"""Tables of the reports area: saved reports (a report and its filters under a name) and their schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class SavedReport(Base):
    """A report of the catalog with its filters, saved under a name by a console user; private or shared."""

    __tablename__ = "saved_reports"
    __table_args__ = (Index("ix_saved_reports_owner", "owner_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    report: Mapped[str] = mapped_column(String(64))  # a catalog key
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    owner_id: Mapped[int] = mapped_column(Integer)  # a console user's id
    is_shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ReportSchedule(Base):
    """A saved report sent by email every day or week at an hour (UTC), through the outbox."""

    __tablename__ = "report_schedules"
    __table_args__ = (Index("ix_report_schedules_due", "next_run_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    saved_report_id: Mapped[int] = mapped_column(ForeignKey("saved_reports.id", ondelete="CASCADE"), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    cadence: Mapped[str] = mapped_column(String(16))  # daily, weekly
    hour: Mapped[int] = mapped_column(Integer)  # 0..23, UTC
    weekday: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0 = Monday; weekly only
    created_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_run_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_outcome: Mapped[str | None] = mapped_column(String(200), nullable=True)
