"""Journeys: a journey's case is found by its instance (the handoff API answers a second call with the same case,
and a stalled journey whose definition says so opens one case, not one per scan).

Revision ID: 0030
Revises: 0027
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_journey", "cases", ["journey_instance_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_journey", table_name="cases")
