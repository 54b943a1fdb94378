"""Journeys: loaded definitions, instances, their entries and resume tokens; the worker's periodic jobs.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "journey_definitions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("loaded_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_journey_definitions")),
    )
    op.create_table(
        "journey_instances",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("journey", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("origin_profile_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_step", sa.String(length=64), nullable=True),
        sa.Column("step_since", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("started_channel", sa.String(length=32), nullable=False),
        sa.Column("last_activity_at", WHEN, nullable=False),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("quiet_since", WHEN, nullable=True),
        sa.Column("joined_into", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_instances")),
        sa.UniqueConstraint("public_id", name=op.f("uq_journey_instances_public_id")),
    )
    op.create_index("ix_journey_instances_profile", "journey_instances", ["profile_id", "journey"])
    op.create_index("ix_journey_instances_origin", "journey_instances", ["origin_profile_id"])
    op.create_index("ix_journey_instances_quiet", "journey_instances", ["status", "last_activity_at"])
    op.create_index("ix_journey_instances_board", "journey_instances", ["journey", "status", "current_step"])
    op.create_index("ix_journey_instances_joined", "journey_instances", ["joined_into"])
    op.create_table(
        "journey_entries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("instance_id", sa.BigInteger(), nullable=False),
        sa.Column("journey", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("value_json", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=True),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("already_held", sa.Boolean(), nullable=False),
        sa.Column("disagreed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_entries")),
    )
    op.create_index("ix_journey_entries_instance", "journey_entries", ["instance_id", "id"])
    op.create_index("ix_journey_entries_collection", "journey_entries", ["journey", "step", "field"])
    op.create_table(
        "journey_tokens",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("instance_public_id", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_journey_tokens_digest")),
    )
    op.create_index("ix_journey_tokens_instance", "journey_tokens", ["instance_public_id"])
    op.create_table(
        "scheduled_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("next_run_at", WHEN, nullable=False),
        sa.Column("last_run_at", WHEN, nullable=True),
        sa.Column("last_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduled_jobs")),
    )


def downgrade() -> None:
    op.drop_table("scheduled_jobs")
    op.drop_index("ix_journey_tokens_instance", table_name="journey_tokens")
    op.drop_table("journey_tokens")
    op.drop_index("ix_journey_entries_collection", table_name="journey_entries")
    op.drop_index("ix_journey_entries_instance", table_name="journey_entries")
    op.drop_table("journey_entries")
    for index in ("joined", "board", "quiet", "origin", "profile"):
        op.drop_index(f"ix_journey_instances_{index}", table_name="journey_instances")
    op.drop_table("journey_instances")
    op.drop_table("journey_definitions")
