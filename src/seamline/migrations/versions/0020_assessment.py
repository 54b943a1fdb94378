"""The communications assessment: an index on when each communication last changed, so the assessment's columnar
copy reads only what changed since its last read (a range scan, not a scan of the whole log).

Revision ID: 0020
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_communications_updated", "communications", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_communications_updated", table_name="communications")
