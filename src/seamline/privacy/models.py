"""Tables of the privacy domain: data-subject requests and the hashed identifiers of erased people."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class PrivacyRequest(Base):
    """One access or erasure request about one profile, with its deadline and outcome."""

    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    profile_id: Mapped[int] = mapped_column(BigInteger, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Counts only: the summary of an erasure must not itself hold what was erased.
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ErasedIdentifier(Base):
    """A tombstone: the SHA-256 of an erased person's normalized identifier, so their events never link again.

    Plain SHA-256 of "type:value", no per-install salt or key: a tombstone must keep matching across restores,
    migrations between installs and configuration changes, and a lost or rotated secret would silently let every
    erased person be recreated. The cost is that a hash of a low-entropy value (a phone number) can be reversed by
    someone who already holds this database and guesses candidates; the table holds nothing else about the person.
    """

    __tablename__ = "erased_identifiers"
    __table_args__ = (UniqueConstraint("type", "value_hash", name="uq_erased_identifiers_type_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    value_hash: Mapped[str] = mapped_column(String(64))
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime())
    request_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
