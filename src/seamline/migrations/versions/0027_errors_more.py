"""Communication errors, more: the communication an error was corrected and re-sent as, and the indexes that find
the errors linked to a communication.

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comm_errors") as batch:
        batch.add_column(sa.Column("resent_communication_id", sa.String(length=100), nullable=True))
    op.create_index("ix_comm_errors_resent", "comm_errors", ["resent_communication_id"])
    # A customer's communications list shows the errors raised on each.
    op.create_index("ix_comm_error_communications_communication", "comm_error_communications", ["communication_id"])


def downgrade() -> None:
    op.drop_index("ix_comm_error_communications_communication", table_name="comm_error_communications")
    op.drop_index("ix_comm_errors_resent", table_name="comm_errors")
    with op.batch_alter_table("comm_errors") as batch:
        batch.drop_column("resent_communication_id")
