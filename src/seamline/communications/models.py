"""Tables of the communications log: one row per communication, its outcome history, unreachable contact points."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Communication(Base):
    """One outbound communication: who, what (type, template and version), why (batch, campaign), whose data fed
    it (source system), who sent it (platform), how (channel), and the data fields it carried."""

    __tablename__ = "communications"
    __table_args__ = (
        Index("ix_communications_profile", "profile_id", "created_at"),
        Index("ix_communications_batch", "batch"),
        # Blast radius of a communication error: everyone a run reached (migration 0019, the errors domain's).
        Index("ix_communications_run", "batch", "template", "template_version", "source_system", "id"),
        Index("ix_communications_updated", "updated_at"),  # the assessment reads what changed since its last read
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    communication_id: Mapped[str] = mapped_column(String(100), unique=True)
    profile_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    type: Mapped[str] = mapped_column(String(32))
    template: Mapped[str | None] = mapped_column(String(100), nullable=True)
    template_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    batch: Mapped[str | None] = mapped_column(String(100), nullable=True)
    campaign: Mapped[str | None] = mapped_column(String(100), nullable=True)
    source_system: Mapped[str | None] = mapped_column(String(100), nullable=True)
    platform: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(32), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    priority: Mapped[str | None] = mapped_column(String(16), nullable=True)
    product: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[str | None] = mapped_column(String(320), nullable=True)  # personal: emptied on erasure
    subject: Mapped[str | None] = mapped_column(String(500), nullable=True)  # personal: emptied on erasure
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # personal: emptied on erasure
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CommunicationOutcome(Base):
    """One step of a communication's history: queued, accepted, delivered, bounced, opened, suppressed…"""

    __tablename__ = "communication_outcomes"
    __table_args__ = (Index("ix_communication_outcomes_communication", "communication_row_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    communication_row_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("communications.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    origin: Mapped[str] = mapped_column(String(32))  # smtp, dispatcher, callback, event, import
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # a tracking event's, once
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UnreachableContact(Base):
    """A contact point a hard bounce or a complaint made unreachable: the consent policy's reachability reads it."""

    __tablename__ = "unreachable_contacts"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_unreachable_contacts_channel_address"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(320))
    profile_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(32))  # bounced_hard, complained
    communication_row_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InAppMessage(Base):
    """A message in a person's in-app inbox, which their app or website reads through the API. Personal: deleted
    on erasure."""

    __tablename__ = "in_app_messages"
    __table_args__ = (Index("ix_in_app_messages_profile", "profile_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    communication_id: Mapped[str] = mapped_column(String(100), unique=True)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(32))
    template: Mapped[str | None] = mapped_column(String(100), nullable=True)
    title: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)  # plain text
    body: Mapped[str] = mapped_column(Text)  # HTML-safe: the template's in_app source (autoescaped) or the text escaped
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
