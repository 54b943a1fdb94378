"""Tables of the feedback domain.

- `survey_invitations`: one survey sent to one person at one touchpoint: the survey, the channel, the
  communication that carried it, when the link expires, and the **snapshot** — a JSON copy, made at send time, of
  what the person is asked to rate (the case and its agent, the journey and its step, the communication, the
  visit). Later changes to the case or the profile never rewrite it.
- `survey_answers`: one answer, with the snapshot it rates (the invitation's, or one made when an answer came
  without an invitation) and the columns the rollups group by, copied out of it.
- `survey_question_answers`: the score of each rated question of an answer (the headline's too), for the rollups
  per question; a one-question survey's answer has one, keyed by its kind.
- `survey_contacts`: per person, when they were last surveyed on any channel: the cool-down. One row per person,
  locked while an invitation is decided, so two workers cannot survey the same person twice at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from seamline.core.db import Base, UtcDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")


class SurveyInvitation(Base):
    __tablename__ = "survey_invitations"
    __table_args__ = (Index("ix_survey_invitations_profile", "profile_id", "sent_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    survey: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    touchpoint: Mapped[str] = mapped_column(String(64))
    profile_id: Mapped[int] = mapped_column(BigInteger)  # the profile it lives on now (follows merges)
    origin_profile_id: Mapped[int] = mapped_column(BigInteger)  # where it was made (an unmerge puts it back)
    channel: Mapped[str] = mapped_column(String(16))
    communication_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"
    __table_args__ = (
        Index("ix_survey_answers_profile", "profile_id", "answered_at"),
        Index("ix_survey_answers_answered", "answered_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    invitation_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)  # one answer each
    event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)  # a tracked answer, once
    survey: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    touchpoint: Mapped[str] = mapped_column(String(64))
    profile_id: Mapped[int] = mapped_column(BigInteger)
    origin_profile_id: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    via: Mapped[str] = mapped_column(String(16))  # page | api | event
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the rollups group by, copied out of the snapshot when the answer is stored.
    agent: Mapped[str | None] = mapped_column(String(200), nullable=True)
    journey_step: Mapped[str | None] = mapped_column(String(130), nullable=True)  # journey/step
    communication_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    task_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # the follow-up a low score made
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SurveyQuestionAnswer(Base):
    __tablename__ = "survey_question_answers"
    __table_args__ = (Index("ix_survey_question_answers_answer", "answer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    answer_id: Mapped[int] = mapped_column(BigInteger)  # survey_answers.id: its person, time and snapshot
    survey: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # csat | nps | ces | custom
    score: Mapped[int] = mapped_column(Integer)


class SurveyContact(Base):
    __tablename__ = "survey_contacts"

    profile_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_surveyed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    channel: Mapped[str] = mapped_column(String(16))
