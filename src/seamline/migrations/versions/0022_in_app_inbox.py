"""The in-app inbox: messages an app or website reads for its signed-in customer.

Revision ID: 0022
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "in_app_messages",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("communication_id", sa.String(length=100), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("read_at", WHEN, nullable=True),
        sa.Column("archived_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_in_app_messages")),
        sa.UniqueConstraint("communication_id", name=op.f("uq_in_app_messages_communication_id")),
    )
    op.create_index("ix_in_app_messages_profile", "in_app_messages", ["profile_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_in_app_messages_profile", table_name="in_app_messages")
    op.drop_table("in_app_messages")
