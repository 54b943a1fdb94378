"""Communication errors, more: the communication an error was corrected and re-sent as.

Revision ID: 0027
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comm_errors") as batch:
        batch.add_column(sa.Column("resent_communication_id", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comm_errors") as batch:
        batch.drop_column("resent_communication_id")
