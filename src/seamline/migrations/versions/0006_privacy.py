"""Data-subject requests and the tombstones of erased identifiers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 17:57:28.562505
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erased_identifiers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erased_identifiers")),
        sa.UniqueConstraint("type", "value_hash", name="uq_erased_identifiers_type_hash"),
    )
    with op.batch_alter_table("erased_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erased_identifiers_request_id"), ["request_id"], unique=False)

    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_privacy_requests_profile_id"), ["profile_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_privacy_requests_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("privacy_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_requests_status"))
        batch_op.drop_index(batch_op.f("ix_privacy_requests_profile_id"))

    op.drop_table("privacy_requests")
    with op.batch_alter_table("erased_identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erased_identifiers_request_id"))

    op.drop_table("erased_identifiers")
