"""Queries of the users domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from seamline.core.db import table_of
from seamline.users.models import ConsoleSession, ConsoleUser, LoginAttempt


def add_user(session: Session, user: ConsoleUser) -> ConsoleUser:
    session.add(user)
    session.flush()
    return user


def user_by_name(session: Session, username: str) -> ConsoleUser | None:
    return session.scalars(select(ConsoleUser).where(ConsoleUser.username == username)).one_or_none()


def user_by_id(session: Session, user_id: int) -> ConsoleUser | None:
    return session.get(ConsoleUser, user_id)


def all_users(session: Session) -> Sequence[ConsoleUser]:
    return session.scalars(select(ConsoleUser).order_by(ConsoleUser.username)).all()


def add_session(session: Session, row: ConsoleSession) -> ConsoleSession:
    session.add(row)
    session.flush()
    return row


def session_by_token_hash(session: Session, token_hash: str) -> tuple[ConsoleSession, ConsoleUser] | None:
    row = session.execute(
        select(ConsoleSession, ConsoleUser)
        .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
        .where(ConsoleSession.token_hash == token_hash)
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


def touch_session(session: Session, session_id: int, at: datetime) -> None:
    session.execute(update(table_of(ConsoleSession)).where(ConsoleSession.id == session_id).values(last_seen_at=at))


def revoke_session(session: Session, session_id: int, at: datetime) -> None:
    session.execute(
        update(table_of(ConsoleSession))
        .where(ConsoleSession.id == session_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )


def revoke_sessions_of(session: Session, user_id: int, at: datetime) -> int:
    result = session.execute(
        update(table_of(ConsoleSession))
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE answers a CursorResult; Result hides rowcount


def add_attempt(session: Session, username: str, at: datetime, outcome: str, ip: str | None) -> None:
    session.add(LoginAttempt(username=username, at=at, outcome=outcome, ip=ip))
    session.flush()


def attempts_since(session: Session, username: str, since: datetime) -> Sequence[tuple[datetime, str]]:
    rows = session.execute(
        select(LoginAttempt.at, LoginAttempt.outcome)
        .where(LoginAttempt.username == username, LoginAttempt.at > since)
        .order_by(LoginAttempt.at)
    ).all()
    return [(r[0], r[1]) for r in rows]
