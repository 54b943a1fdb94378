"""The event quarantine: events that failed the pipeline repeatedly, with their reason.

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_quarantine",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["inbox_events.id"], name=op.f("fk_inbox_quarantine_event_id_inbox_events")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_inbox_quarantine")),
    )


def downgrade() -> None:
    op.drop_table("inbox_quarantine")
