"""Tables of the audit domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    """One read or change of personal data by one actor; append-only."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # Both lists page newest first by id: one subject's history, one actor's doings.
        Index("ix_audit_log_subject", "subject_type", "subject_id", "id"),
        Index("ix_audit_log_actor", "actor", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    actor_kind: Mapped[str] = mapped_column(String(16))
    surface: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
