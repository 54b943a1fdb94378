"""Saved reports and their email schedules.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "saved_reports",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("report", sa.String(length=64), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("is_shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_reports")),
    )
    op.create_index("ix_saved_reports_owner", "saved_reports", ["owner_id"])
    op.create_table(
        "report_schedules",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("saved_report_id", BIG_ID, nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("next_run_at", WHEN, nullable=False),
        sa.Column("last_run_at", WHEN, nullable=True),
        sa.Column("last_outcome", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["saved_report_id"],
            ["saved_reports.id"],
            name=op.f("fk_report_schedules_saved_report_id_saved_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_schedules")),
    )
    op.create_index("ix_report_schedules_due", "report_schedules", ["next_run_at"])
    op.create_index(op.f("ix_report_schedules_saved_report_id"), "report_schedules", ["saved_report_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_schedules_saved_report_id"), table_name="report_schedules")
    op.drop_index("ix_report_schedules_due", table_name="report_schedules")
    op.drop_table("report_schedules")
    op.drop_index("ix_saved_reports_owner", table_name="saved_reports")
    op.drop_table("saved_reports")
