"""Privacy: a change feed of profiles for every process's in-memory index, and the erasure mark on a profile.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profile_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("profile_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_profile_changes")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("profile_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_profile_changes_txid"), ["txid"], unique=False)
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("erasure_request_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_column("erasure_request_id")
        batch_op.drop_column("erased_at")
    with op.batch_alter_table("profile_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profile_changes_txid"))
    op.drop_table("profile_changes")
