"""The consent ledger: every version of every consent and delivery choice.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 17:21:41.416283
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_choices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("origin_profile_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=True),
        sa.Column("product", sa.String(length=200), nullable=True),
        sa.Column("document_type", sa.String(length=32), nullable=True),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("surface", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("legal_basis", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_choices")),
    )
    with op.batch_alter_table("consent_choices", schema=None) as batch_op:
        batch_op.create_index("ix_consent_choices_event", ["event_id"], unique=False)
        batch_op.create_index("ix_consent_choices_origin", ["origin_profile_id"], unique=False)
        batch_op.create_index("ix_consent_choices_profile", ["profile_id", "kind", "purpose"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consent_choices", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_choices_profile")
        batch_op.drop_index("ix_consent_choices_origin")
        batch_op.drop_index("ix_consent_choices_event")

    op.drop_table("consent_choices")
