"""Queries of the feedback domain. The rollups also count, read-only and in bulk, the communication errors and cases
of the people who answered (one grouped query each, rather than a service call per person)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, delete, false, func, literal, select, update
from sqlalchemy.orm import Session

from seamline.cases.models import Case
from seamline.core.db import table_of
from seamline.errors.models import CommError
from seamline.feedback.models import SurveyAnswer, SurveyContact, SurveyInvitation, SurveyQuestionAnswer

_I = table_of(SurveyInvitation)
_A = table_of(SurveyAnswer)
_C = table_of(SurveyContact)
_Q = table_of(SurveyQuestionAnswer)


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


def add_question_answers(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    session.add_all([SurveyQuestionAnswer(**row) for row in rows])


def question_scores(session: Session, answer_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Each answer's score per question, in the order they were stored."""
    out: dict[int, dict[str, int]] = {}
    if answer_ids:
        query = select(_Q.c.answer_id, _Q.c.question, _Q.c.score).where(_Q.c.answer_id.in_(answer_ids))
        for answer_id, question, score in session.execute(query.order_by(_Q.c.id)):
            out.setdefault(int(answer_id), {})[str(question)] = int(score)
    return out


def question_counts(
    session: Session, since: datetime, until: datetime, people: Collection[int] | None = None
) -> Sequence[Any]:
    """(survey, question, kind, score, answers) of a period's answers: the histograms of the rollups per question."""
    query = (
        select(_Q.c.survey, _Q.c.question, _Q.c.kind, _Q.c.score, func.count().label("answers"))
        .join(_A, _A.c.id == _Q.c.answer_id)
        .where(_A.c.answered_at >= since, _A.c.answered_at < until, *_among(people))
        .group_by(_Q.c.survey, _Q.c.question, _Q.c.kind, _Q.c.score)
    )
    return session.execute(query).all()


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


def _among(people: Collection[int] | None) -> tuple[ColumnElement[bool], ...]:
    """Only the answers of these profiles (a customer segment); no condition for None. The ids are whole numbers
    written into the statement (a bound parameter each would pass SQLite's limit of variables for a large
    segment)."""
    if people is None:
        return ()
    if not people:
        return (false(),)
    return (_A.c.profile_id.in_(bindparam("people", sorted(people), expanding=True, literal_execute=True)),)


def daily_counts(
    session: Session, since: datetime, until: datetime, people: Collection[int] | None = None
) -> Sequence[Any]:
    """(day 'YYYY-MM-DD' in UTC, kind, score, answers) of a period's answers: the trend's histogram, grouped in the
    database. SQLite keeps UTC times as ISO text (the day is its first ten characters); PostgreSQL's timestamptz is
    read in UTC."""
    column = _A.c.answered_at
    if session.get_bind().dialect.name == "sqlite":
        day = func.substr(column, 1, 10)
    else:
        day = func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    query = (
        select(day.label("day"), _A.c.kind, _A.c.score, func.count().label("answers"))
        .where(column >= since, column < until, *_among(people))
        .group_by(day, _A.c.kind, _A.c.score)
    )
    return session.execute(query).all()


def score_counts(
    session: Session, by: str | None, since: datetime, until: datetime, people: Collection[int] | None = None
) -> Sequence[Any]:
    """(key, kind, score, answers) of a period's answers grouped by one of their grouping columns (None: one
    group, every key None)."""
    key = _A.c[by] if by is not None else literal(None, String()).label("key")
    query = (
        select(key.label("key"), _A.c.kind, _A.c.score, func.count().label("answers"))
        .where(_A.c.answered_at >= since, _A.c.answered_at < until, *_among(people))
        .group_by(*((key,) if by is not None else ()), _A.c.kind, _A.c.score)
    )
    return session.execute(query).all()


def people_problems(
    session: Session, by: str, since: datetime, until: datetime, people: Collection[int] | None = None
) -> Sequence[Any]:
    """Per group of a period's answers: the people who answered, how many of them had communication errors
    reported (and how many errors) and opened cases (and how many) in the period. One statement: the people and
    their counts are joined in the database, never listed out."""
    window = (_A.c.answered_at >= since, _A.c.answered_at < until, *_among(people))
    answered = select(_A.c[by].label("key"), _A.c.profile_id).where(*window).distinct().subquery()
    errors = (
        select(CommError.profile_id, func.count().label("n"))
        .where(CommError.reported_at >= since, CommError.reported_at < until)
        .group_by(CommError.profile_id)
        .subquery()
    )
    cases = (
        select(Case.profile_id, func.count().label("n"))
        .where(Case.opened_at >= since, Case.opened_at < until)
        .group_by(Case.profile_id)
        .subquery()
    )
    query = (
        select(
            answered.c.key,
            func.count().label("people"),
            func.count(errors.c.n).label("people_with_errors"),
            func.coalesce(func.sum(errors.c.n), 0).label("errors"),
            func.count(cases.c.n).label("people_with_cases"),
            func.coalesce(func.sum(cases.c.n), 0).label("cases"),
        )
        .select_from(answered)
        .outerjoin(errors, errors.c.profile_id == answered.c.profile_id)
        .outerjoin(cases, cases.c.profile_id == answered.c.profile_id)
        .group_by(answered.c.key)
    )
    return session.execute(query).all()


def holders(session: Session, profile_ids: Collection[int]) -> set[int]:
    """Which of these profiles hold an invitation, an answer or a cool-down (most hold none of them)."""
    ids, found = sorted(profile_ids), set[int]()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for table in (_I, _A, _C):
            found.update(session.scalars(select(table.c.profile_id).where(table.c.profile_id.in_(chunk)).distinct()))
    return found


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
    answers = select(_A.c.id).where(_A.c.profile_id.in_(profile_ids) | _A.c.origin_profile_id.in_(profile_ids))
    session.execute(delete(_Q).where(_Q.c.answer_id.in_(answers)))  # parts of the answers, counted with them
    for table in (_A, _I):
        doomed = table.c.profile_id.in_(profile_ids) | table.c.origin_profile_id.in_(profile_ids)
        erased += int(session.execute(delete(table).where(doomed)).rowcount)  # type: ignore[attr-defined]  # Result's stubs lack rowcount; a DELETE returns a CursorResult, which has it
    session.execute(delete(_C).where(_C.c.profile_id.in_(profile_ids)))
    return erased
