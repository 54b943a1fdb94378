"""Queries of the feedback domain. The rollups also count, read-only and in bulk, the communication errors and cases
of the people who answered (one grouped query each, rather than a service call per person)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from seamline.cases.models import Case
from seamline.core.db import table_of
from seamline.errors.models import CommError
from seamline.feedback.models import SurveyAnswer, SurveyContact, SurveyInvitation

_I = table_of(SurveyInvitation)
_A = table_of(SurveyAnswer)
_C = table_of(SurveyContact)


def add_invitation(session: Session, row: Mapping[str, Any]) -> SurveyInvitation:
    invitation = SurveyInvitation(**row)
    session.add(invitation)
    session.flush()
    return invitation


def invitation(session: Session, invitation_id: int, *, lock: bool = False) -> SurveyInvitation | None:
    query = select(SurveyInvitation).where(SurveyInvitation.id == invitation_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def invitation_by_key(session: Session, key: str) -> SurveyInvitation | None:
    return session.scalars(select(SurveyInvitation).where(SurveyInvitation.idempotency_key == key)).first()


def contact(session: Session, profile_ids: Sequence[int], *, lock: bool = False) -> Sequence[SurveyContact]:
    """The cool-down rows of a person's profiles, locked for the invitation being decided."""
    query = select(SurveyContact).where(SurveyContact.profile_id.in_(profile_ids))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).all()


def add_contact(session: Session, profile_id: int, at: datetime, channel: str) -> None:
    session.add(SurveyContact(profile_id=profile_id, last_surveyed_at=at, channel=channel))
    session.flush()


def add_answer(session: Session, row: Mapping[str, Any]) -> SurveyAnswer:
    answer = SurveyAnswer(**row)
    session.add(answer)
    session.flush()
    return answer


def answer_of_invitation(session: Session, invitation_id: int) -> SurveyAnswer | None:
    return session.scalars(select(SurveyAnswer).where(SurveyAnswer.invitation_id == invitation_id)).first()


def answered_event_ids(session: Session, event_ids: Sequence[int]) -> set[int]:
    query = select(_A.c.event_id).where(_A.c.event_id.in_(event_ids))
    return {int(v) for v in session.scalars(query)}


def answers_of(session: Session, profile_ids: Sequence[int], limit: int) -> Sequence[SurveyAnswer]:
    query = select(SurveyAnswer).where(SurveyAnswer.profile_id.in_(profile_ids))
    return session.scalars(query.order_by(SurveyAnswer.answered_at.desc(), SurveyAnswer.id.desc()).limit(limit)).all()


def invitations_of(session: Session, profile_ids: Sequence[int], limit: int) -> Sequence[SurveyInvitation]:
    query = select(SurveyInvitation).where(SurveyInvitation.profile_id.in_(profile_ids))
    return session.scalars(query.order_by(SurveyInvitation.id.desc()).limit(limit)).all()


def answers_between(session: Session, since: datetime, until: datetime) -> Sequence[Any]:
    """The answers of a period, with only the columns the rollups and trends read."""
    query = select(
        _A.c.kind, _A.c.survey, _A.c.touchpoint, _A.c.agent, _A.c.journey_step, _A.c.communication_type,
        _A.c.profile_id, _A.c.score, _A.c.answered_at,
    ).where(_A.c.answered_at >= since, _A.c.answered_at < until)  # fmt: skip
    return session.execute(query).all()


def error_counts(session: Session, profile_ids: Sequence[int], since: datetime, until: datetime) -> dict[int, int]:
    """How many communication errors were reported about each of these people in a period."""
    query = (
        select(CommError.profile_id, func.count())
        .where(CommError.profile_id.in_(profile_ids), CommError.reported_at >= since, CommError.reported_at < until)
        .group_by(CommError.profile_id)
    )
    return {int(p): int(n) for p, n in session.execute(query) if p is not None}


def case_counts(session: Session, profile_ids: Sequence[int], since: datetime, until: datetime) -> dict[int, int]:
    """How many cases each of these people opened in a period."""
    query = (
        select(Case.profile_id, func.count())
        .where(Case.profile_id.in_(profile_ids), Case.opened_at >= since, Case.opened_at < until)
        .group_by(Case.profile_id)
    )
    return {int(p): int(n) for p, n in session.execute(query)}


def move(session: Session, absorbed: int, survivor: int) -> None:
    for table in (_I, _A):
        session.execute(update(table).where(table.c.profile_id == absorbed).values(profile_id=survivor))
    rows = {r.profile_id: r for r in contact(session, [absorbed, survivor], lock=True)}
    if absorbed in rows:
        gone = rows[absorbed]
        kept = rows.get(survivor)
        if kept is None:
            session.add(
                SurveyContact(profile_id=survivor, last_surveyed_at=gone.last_surveyed_at, channel=gone.channel)
            )
        elif gone.last_surveyed_at > kept.last_surveyed_at:
            kept.last_surveyed_at, kept.channel = gone.last_surveyed_at, gone.channel
        session.delete(gone)
    session.flush()


def restore(session: Session, profile_ids: Sequence[int]) -> None:
    for table in (_I, _A):
        session.execute(
            update(table)
            .where(table.c.origin_profile_id.in_(profile_ids), table.c.profile_id != table.c.origin_profile_id)
            .values(profile_id=table.c.origin_profile_id)
        )


def erase(session: Session, profile_ids: Sequence[int]) -> int:
    erased = 0
    for table in (_A, _I):
        doomed = table.c.profile_id.in_(profile_ids) | table.c.origin_profile_id.in_(profile_ids)
        erased += int(session.execute(delete(table).where(doomed)).rowcount)  # type: ignore[attr-defined]
    session.execute(delete(_C).where(_C.c.profile_id.in_(profile_ids)))
    return erased
