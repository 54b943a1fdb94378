"""Tasks (work for a person, routed to a queue) and triggers (firings once per person, counted events, steps).

Revision ID: 0018
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("origin_profile_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.Column("journey_instance_id", sa.String(length=100), nullable=True),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("communication_ids", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("assignee", sa.String(length=200), nullable=True),
        sa.Column("picked_up_at", WHEN, nullable=True),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("completed_by", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=True),
        sa.Column("follow_up_of", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_queue", "tasks", ["queue", "status", "due_at"])
    op.create_index("ix_tasks_profile", "tasks", ["profile_id", "status"])
    op.create_index("ix_tasks_origin", "tasks", ["origin_profile_id"])
    op.create_table(
        "trigger_firings",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("fired_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_firings")),
        sa.UniqueConstraint("rule", "profile_id", "key", name="uq_trigger_firings_once"),
    )
    op.create_index("ix_trigger_firings_profile", "trigger_firings", ["profile_id"])
    op.create_table(
        "trigger_hits",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("grouping", sa.String(length=200), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_hits")),
    )
    op.create_index("ix_trigger_hits_count", "trigger_hits", ["rule", "profile_id", "grouping", "occurred_at"])
    op.create_index("ix_trigger_hits_profile", "trigger_hits", ["profile_id"])
    op.create_table(
        "trigger_steps",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("firing_id", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("fired_with", sa.JSON(), nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=500), nullable=True),
        sa.Column("settled_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_steps")),
    )
    op.create_index("ix_trigger_steps_due", "trigger_steps", ["status", "due_at"])
    op.create_index("ix_trigger_steps_profile", "trigger_steps", ["profile_id", "rule", "status"])
    op.create_table(
        "trigger_cursors",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_trigger_cursors")),
    )


def downgrade() -> None:
    op.drop_table("trigger_cursors")
    op.drop_table("trigger_steps")
    op.drop_table("trigger_hits")
    op.drop_table("trigger_firings")
    op.drop_table("tasks")
