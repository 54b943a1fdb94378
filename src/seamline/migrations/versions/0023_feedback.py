"""Feedback at touchpoints: survey invitations with their snapshots, answers, and the cross-channel cool-down.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "survey_invitations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("survey", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("origin_profile_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("communication_id", sa.String(length=100), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("sent_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_survey_invitations_idempotency_key")),
    )
    op.create_index("ix_survey_invitations_profile", "survey_invitations", ["profile_id", "sent_at"])
    op.create_table(
        "survey_answers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("invitation_id", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("survey", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("touchpoint", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("origin_profile_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=True),
        sa.Column("journey_step", sa.String(length=130), nullable=True),
        sa.Column("communication_type", sa.String(length=32), nullable=True),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("answered_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_survey_answers_invitation_id")),
        sa.UniqueConstraint("event_id", name=op.f("uq_survey_answers_event_id")),
    )
    op.create_index("ix_survey_answers_profile", "survey_answers", ["profile_id", "answered_at"])
    op.create_index("ix_survey_answers_answered", "survey_answers", ["answered_at"])
    op.create_table(
        "survey_contacts",
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("last_surveyed_at", WHEN, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_survey_contacts")),
    )


def downgrade() -> None:
    op.drop_table("survey_contacts")
    op.drop_index("ix_survey_answers_answered", table_name="survey_answers")
    op.drop_index("ix_survey_answers_profile", table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_index("ix_survey_invitations_profile", table_name="survey_invitations")
    op.drop_table("survey_invitations")
