"""The canonical customer model: each trait candidate keeps the name its source gave it (`telephone`, `postcode`).

Revision ID: 0011
Revises: 0010

Traits recorded before this revision keep the names their sources used; `seamline identity rebuild --apply`
re-derives them from the event log in the canonical vocabulary.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("profile_traits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_field", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profile_traits", schema=None) as batch_op:
        batch_op.drop_column("source_field")
