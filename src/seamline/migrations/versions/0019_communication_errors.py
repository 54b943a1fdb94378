"""Communication errors: reports, the communications they name, problems, blast-radius recipients, timeline; and
the communications log's index of a run (batch, template version, source system) for blast radius.

Revision ID: 0019
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "comm_errors",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=True),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("intake", sa.String(length=16), nullable=False),
        sa.Column("reporter", sa.String(length=200), nullable=False),
        sa.Column("external_ref", sa.String(length=200), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("shown", sa.String(length=1000), nullable=True),
        sa.Column("expected", sa.String(length=1000), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("harm", sa.String(length=40), nullable=False),
        sa.Column("customers_affected", sa.Integer(), nullable=False),
        sa.Column("is_vulnerable", sa.Boolean(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("severity_rank", sa.Integer(), nullable=False),
        sa.Column("severity_reason", sa.String(length=500), nullable=False),
        sa.Column("owner_team", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=True),
        sa.Column("template_version", sa.String(length=32), nullable=True),
        sa.Column("batch", sa.String(length=100), nullable=True),
        sa.Column("source_system", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("resolution", sa.String(length=1000), nullable=True),
        sa.Column("correction_event_id", sa.BigInteger(), nullable=True),
        sa.Column("problem_id", sa.BigInteger(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("reported_at", WHEN, nullable=False),
        sa.Column("acknowledged_at", WHEN, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledge_due_at", WHEN, nullable=False),
        sa.Column("resolve_due_at", WHEN, nullable=False),
        sa.Column("acknowledge_missed", sa.Boolean(), nullable=False),
        sa.Column("resolve_missed", sa.Boolean(), nullable=False),
        sa.Column("regulatory_clock", sa.String(length=40), nullable=True),
        sa.Column("regulatory_due_at", WHEN, nullable=True),
        sa.Column("regulatory_warn_at", WHEN, nullable=True),
        sa.Column("regulatory_warned", sa.Boolean(), nullable=False),
        sa.Column("regulatory_done_at", WHEN, nullable=True),
        sa.Column("next_check_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comm_errors")),
        sa.UniqueConstraint("external_ref", name="uq_comm_errors_external_ref"),
    )
    op.create_index("ix_comm_errors_queue", "comm_errors", ["is_open", "severity_rank", "resolve_due_at", "id"])
    op.create_index("ix_comm_errors_next_check", "comm_errors", ["next_check_at"])
    op.create_index("ix_comm_errors_profile", "comm_errors", ["profile_id"])
    op.create_index("ix_comm_errors_problem", "comm_errors", ["problem_id"])
    op.create_index("ix_comm_errors_reported", "comm_errors", ["reported_at"])
    op.create_table(
        "comm_error_communications",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("error_id", sa.BigInteger(), nullable=False),
        sa.Column("communication_row_id", sa.BigInteger(), nullable=False),
        sa.Column("communication_id", sa.String(length=100), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["error_id"],
            ["comm_errors.id"],
            name=op.f("fk_comm_error_communications_error_id_comm_errors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comm_error_communications")),
        sa.UniqueConstraint("error_id", "communication_row_id", name="uq_comm_error_communications"),
    )
    op.create_index("ix_comm_error_communications_profile", "comm_error_communications", ["profile_id"])
    op.create_table(
        "problems",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("signature", sa.String(length=500), nullable=False),
        sa.Column("grouped_by", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=True),
        sa.Column("template_version", sa.String(length=32), nullable=True),
        sa.Column("batch", sa.String(length=100), nullable=True),
        sa.Column("source_system", sa.String(length=100), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_reopened", sa.Boolean(), nullable=False),
        sa.Column("root_cause", sa.String(length=2000), nullable=True),
        sa.Column("corrective_action", sa.String(length=2000), nullable=True),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problems")),
    )
    op.create_index("ix_problems_signature", "problems", ["signature", "status"])
    op.create_table(
        "problem_recipients",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("problem_id", sa.BigInteger(), nullable=False),
        sa.Column("communication_row_id", sa.BigInteger(), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=True),
        sa.Column("notice_communication_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("acted_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["problem_id"], ["problems.id"], name=op.f("fk_problem_recipients_problem_id_problems"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_recipients")),
        sa.UniqueConstraint("problem_id", "communication_row_id", name="uq_problem_recipients"),
    )
    op.create_index("ix_problem_recipients_profile", "problem_recipients", ["profile_id"])
    op.create_table(
        "comm_error_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("error_id", sa.BigInteger(), nullable=True),
        sa.Column("problem_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comm_error_events")),
    )
    op.create_index("ix_comm_error_events_error", "comm_error_events", ["error_id", "id"])
    op.create_index("ix_comm_error_events_problem", "comm_error_events", ["problem_id", "id"])
    # Blast radius: everyone a run (batch, template version, source system) reached, counted from the index alone.
    op.create_index(
        "ix_communications_run", "communications", ["batch", "template", "template_version", "source_system", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_communications_run", table_name="communications")
    op.drop_table("comm_error_events")
    op.drop_table("problem_recipients")
    op.drop_table("problems")
    op.drop_table("comm_error_communications")
    op.drop_table("comm_errors")
