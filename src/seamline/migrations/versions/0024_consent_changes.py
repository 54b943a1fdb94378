"""The consent change feed (each new version of a choice, for destinations to announce exactly once) with its
readers' cursors, and the circuits of outbox targets shared by every dispatcher process.

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "consent_changes",
        sa.Column("seq", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("choice_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_consent_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_consent_changes_txid", "consent_changes", ["txid", "seq"])
    op.create_table(
        "consent_feed_readers",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_consent_feed_readers")),
    )
    op.create_table(
        "outbox_circuits",
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("open_until", WHEN, nullable=True),
        sa.Column("trial_until", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_outbox_circuits")),
    )


def downgrade() -> None:
    op.drop_table("outbox_circuits")
    op.drop_table("consent_feed_readers")
    op.drop_index("ix_consent_changes_txid", table_name="consent_changes")
    op.drop_table("consent_changes")
