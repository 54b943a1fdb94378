"""Surveys of several rated questions: each question's score of an answer, for the rollups per question. The
answers already given (one question each, keyed by their kind) are copied in.

Revision ID: 0033
Revises: 0030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0030"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "survey_question_answers",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("answer_id", sa.BigInteger(), nullable=False),
        sa.Column("survey", sa.String(length=64), nullable=False),
        sa.Column("question", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_question_answers")),
    )
    op.create_index("ix_survey_question_answers_answer", "survey_question_answers", ["answer_id"])
    op.execute(
        "INSERT INTO survey_question_answers (answer_id, survey, question, kind, score) "
        "SELECT id, survey, kind, kind, score FROM survey_answers"
    )


def downgrade() -> None:
    op.drop_index("ix_survey_question_answers_answer", table_name="survey_question_answers")
    op.drop_table("survey_question_answers")
