"""Decisions: purchases (never market what was just bought), action outcomes and the propensity tallies.

Revision ID: 0017
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "decision_purchases",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=False),
        sa.Column("purchased_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_purchases")),
    )
    op.create_index("ix_decision_purchases_profile", "decision_purchases", ["profile_id", "purchased_at"])
    op.create_index("uq_decision_purchases_event", "decision_purchases", ["event_id", "product"], unique=True)
    op.create_table(
        "decision_outcomes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_outcomes")),
        sa.UniqueConstraint("event_id", name=op.f("uq_decision_outcomes_event_id")),
    )
    op.create_index("ix_decision_outcomes_profile", "decision_outcomes", ["profile_id", "action"])
    op.create_table(
        "decision_tallies",
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("shown", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("ignored", sa.Integer(), nullable=False),
        sa.Column("converted", sa.Integer(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("action", "segment", name=op.f("pk_decision_tallies")),
    )


def downgrade() -> None:
    op.drop_table("decision_tallies")
    op.drop_index("ix_decision_outcomes_profile", table_name="decision_outcomes")
    op.drop_table("decision_outcomes")
    op.drop_index("uq_decision_purchases_event", table_name="decision_purchases")
    op.drop_index("ix_decision_purchases_profile", table_name="decision_purchases")
    op.drop_table("decision_purchases")
