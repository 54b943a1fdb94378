"""The stall scan's index: (journey, status, last_activity_at), so each definition's quiet journeys are one index
range read oldest first and a scan of 25,000 stops after 25,000. It replaces (status, last_activity_at), with
which each pass read every quiet journey of every definition and sorted them all to take the first 25,000.

Revision ID: 0035
Revises: 0033
"""

from __future__ import annotations

from alembic import op

revision = "0035"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_journey_instances_due", "journey_instances", ["journey", "status", "last_activity_at"])
    op.drop_index("ix_journey_instances_quiet", table_name="journey_instances")


def downgrade() -> None:
    op.create_index("ix_journey_instances_quiet", "journey_instances", ["status", "last_activity_at"])
    op.drop_index("ix_journey_instances_due", table_name="journey_instances")
