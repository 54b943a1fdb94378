"""Tables of the matching domain: pairs the model judged worth acting on (merged automatically or sent to review),
with the evidence, and reviewers' decisions, which are the labels training learns from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class MatchPair(Base):
    """Two profiles the model scored, what was decided and by whom.

    `status`: merged (an automatic merge was sent to the identity graph), pending (waiting for a reviewer),
    accepted (a reviewer merged them), rejected (a reviewer kept them apart). Accepted and rejected pairs are
    labels. `left_values`/`right_values` are the prepared records as compared, so a label keeps its meaning after
    the profiles change.
    """

    __tablename__ = "match_pairs"
    __table_args__ = (Index("ix_match_pairs_profiles", "left_profile_id", "right_profile_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36), index=True)
    left_profile_id: Mapped[int] = mapped_column(BigInteger)
    right_profile_id: Mapped[int] = mapped_column(BigInteger)
    probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    model_version: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    comparison: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    left_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    right_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    note: Mapped[str | None] = mapped_column(String(1000), nullable=True)
