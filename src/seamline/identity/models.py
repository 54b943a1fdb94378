"""Tables of the identity graph: profiles, identifier links, merges, merge blocks, conflicts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class Profile(Base):
    """One customer. A merged profile keeps its row, pointing at the profile that absorbed it."""

    __tablename__ = "profiles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by_event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id"), nullable=True, index=True)
    merge_count: Mapped[int] = mapped_column(Integer, default=0)
    # Set by an erasure, with the data-subject request that asked for it: the row stays (merges and events still
    # point at it) but the profile is never served again; readers answer "gone, erased by request N".
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    erasure_request_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class IdentifierLink(Base):
    """A profile holds an identifier. Non-shareable identifiers have one holder; shareable ones may have more."""

    __tablename__ = "identifiers"
    __table_args__ = (
        UniqueConstraint("value", "type", "profile_id", name="uq_identifiers_value_type_profile"),
        Index("ix_identifiers_profile", "profile_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id"))
    type: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(512))
    source_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Merge(Base):
    """Two profiles joined, with the evidence; `undone_at` once unmerged."""

    __tablename__ = "merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id"), index=True)
    merged_profile_id: Mapped[int] = mapped_column(ForeignKey("profiles.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    identifier_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    identifier_value: Mapped[str | None] = mapped_column(String(512), nullable=True)
    rule: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    undo_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


class MergeBlock(Base):
    """Two profiles that must not be merged again (written by an unmerge). Stored with a < b."""

    __tablename__ = "merge_blocks"

    profile_a: Mapped[int] = mapped_column(ForeignKey("profiles.id"), primary_key=True)
    profile_b: Mapped[int] = mapped_column(ForeignKey("profiles.id"), primary_key=True)
    merge_id: Mapped[int | None] = mapped_column(ForeignKey("merges.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class IdentityConflict(Base):
    """Evidence that resolution refused to use: a conflicting identifier, a guard, or a placeholder value."""

    __tablename__ = "identity_conflicts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id"), nullable=True, index=True)
    other_profile_id: Mapped[int | None] = mapped_column(ForeignKey("profiles.id"), nullable=True)
    identifier_type: Mapped[str] = mapped_column(String(64))
    identifier_value: Mapped[str] = mapped_column(String(512))
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ProfileChange(Base):
    """One transaction's change to what profiles hold, naming them: the change feed that every process's in-memory
    views (the real-time match index) read as "changes since my mark" (see identity/feed.py)."""

    __tablename__ = "profile_changes"
    __table_args__ = {"sqlite_autoincrement": True}  # a pruned or rolled-back seq is never handed out again

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # PostgreSQL: the writing transaction's id (rows commit out of seq order there); SQLite: none.
    txid: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    profile_ids: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
