"""Record matching: pairs merged automatically or sent to review, and reviewers' decisions (the labels).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_pairs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("left_profile_id", sa.BigInteger(), nullable=False),
        sa.Column("right_profile_id", sa.BigInteger(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("comparison", sa.JSON(), nullable=False),
        sa.Column("left_values", sa.JSON(), nullable=False),
        sa.Column("right_values", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_pairs")),
    )
    with op.batch_alter_table("match_pairs", schema=None) as batch_op:
        batch_op.create_index("ix_match_pairs_profiles", ["left_profile_id", "right_profile_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_pairs_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_match_pairs_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("match_pairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_pairs_status"))
        batch_op.drop_index(batch_op.f("ix_match_pairs_run_id"))
        batch_op.drop_index("ix_match_pairs_profiles")

    op.drop_table("match_pairs")
