"""Journeys: a case records the journey it hands over (instance and step); journey entries are found by the event
that made them (a save applied when it was made is skipped when the worker resolves its event).

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("journey_instance_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("journey_step", sa.String(length=64), nullable=True))
    op.create_index("ix_journey_entries_event", "journey_entries", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_journey_entries_event", table_name="journey_entries")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("journey_step")
        batch.drop_column("journey_instance_id")
