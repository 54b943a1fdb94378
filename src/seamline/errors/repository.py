"""Queries of communication errors and problems."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, delete, func, literal, or_, select, tuple_, union_all, update
from sqlalchemy.orm import Session

from seamline.core.db import table_of
from seamline.errors.models import CommError, CommErrorCommunication, CommErrorEvent, Problem, ProblemRecipient

_E = table_of(CommError)
_L = table_of(CommErrorCommunication)
_P = table_of(Problem)
_R = table_of(ProblemRecipient)
_T = table_of(CommErrorEvent)


def add_error(session: Session, row: Mapping[str, Any]) -> CommError:
    error = CommError(**row)
    session.add(error)
    session.flush()
    return error


def link_communications(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(_L.insert(), list(rows))


def error(session: Session, error_id: int, *, lock: bool = False) -> CommError | None:
    query = select(CommError).where(CommError.id == error_id)
    return session.scalars(query.with_for_update() if lock else query).first()


def errors_by_ids(session: Session, ids: Sequence[int]) -> list[CommError]:
    if not ids:
        return []
    return list(session.scalars(select(CommError).where(CommError.id.in_(ids)).order_by(CommError.id)))


def external_refs(session: Session, refs: Sequence[str]) -> set[str]:
    if not refs:
        return set()
    return {
        str(r) for r in session.execute(select(_E.c.external_ref).where(_E.c.external_ref.in_(list(refs)))).scalars()
    }


def communications_of(session: Session, error_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if error_ids:
        query = select(_L.c.error_id, _L.c.communication_id).where(_L.c.error_id.in_(error_ids)).order_by(_L.c.id)
        for error_id, communication_id in session.execute(query):
            out.setdefault(int(error_id), []).append(str(communication_id))
    return out


def raised_on(session: Session, communication_ids: Sequence[str]) -> list[tuple[str, int, str, str, bool]]:
    """(communication id, error id, severity, status, whether it is the error's re-send) for every error a report
    raised on these communications or that re-sent them."""
    if not communication_ids:
        return []
    ids = list(communication_ids)
    about = (
        select(_L.c.communication_id, _E.c.id, _E.c.severity, _E.c.status)
        .join(_E, _E.c.id == _L.c.error_id)
        .where(_L.c.communication_id.in_(ids))
    )
    resent = select(_E.c.resent_communication_id, _E.c.id, _E.c.severity, _E.c.status).where(
        _E.c.resent_communication_id.in_(ids)
    )
    out = [(str(c), int(e), str(s), str(t), False) for c, e, s, t in session.execute(about)]
    out += [(str(c), int(e), str(s), str(t), True) for c, e, s, t in session.execute(resent)]
    return sorted(out, key=lambda r: (r[0], r[1]))


def communication_row_ids(session: Session, error_ids: Sequence[int]) -> list[int]:
    query = select(_L.c.communication_row_id).where(_L.c.error_id.in_(error_ids))
    return [int(r) for r in session.execute(query).scalars()]


def reported_row_ids(session: Session, problem_id: int) -> set[int]:
    """The communications a problem's own reports name (the blast radius lists everyone else)."""
    query = select(_L.c.communication_row_id).join(_E, _E.c.id == _L.c.error_id).where(_E.c.problem_id == problem_id)
    return {int(r) for r in session.execute(query).scalars()}


def queue(
    session: Session,
    *,
    is_open: bool,
    severity_rank: int | None,
    harm: str | None,
    problem_id: int | None,
    profile_id: int | None,
    limit: int,
    offset: int,
    after: tuple[int, datetime, int] | None = None,
) -> list[Row[Any]]:
    """Errors most severe first, then soonest due. The queue index (is_open, severity_rank, resolve_due_at, id)
    serves the queue, one severity of it (by rank), and a page after a key (a row-value comparison on it, so a deep
    page reads its 50 rows, not every row before them). Plain rows, not ORM objects: a page only reads them (the
    identity map was a third of the query's time)."""
    query = select(_E).where(_E.c.is_open == is_open)
    if severity_rank is not None:
        query = query.where(_E.c.severity_rank == severity_rank)
    if after is not None:
        query = query.where(tuple_(_E.c.severity_rank, _E.c.resolve_due_at, _E.c.id) > tuple_(*after))
    if harm is not None:
        query = query.where(_E.c.harm == harm)
    if problem_id is not None:
        query = query.where(_E.c.problem_id == problem_id)
    if profile_id is not None:
        query = query.where(_E.c.profile_id == profile_id)
    order = (_E.c.severity_rank, _E.c.resolve_due_at, _E.c.id)
    return list(session.execute(query.order_by(*order).limit(limit).offset(offset)))


def count_open(session: Session, ranks: Sequence[int], cap: int) -> dict[int, int]:
    """Open errors per severity rank, each counted up to `cap` + 1 from the queue index (counting every open row
    took 30-180 ms at 100,000 open errors on a loaded machine; a queue says "1,000+" instead)."""
    # One statement for every rank (one round trip and one compiled query per page, not one per severity).
    counted = [
        select(literal(rank).label("rank"), func.count().label("n")).select_from(
            select(_E.c.id).where(_E.c.is_open.is_(True), _E.c.severity_rank == rank).limit(cap + 1).subquery()
        )
        for rank in ranks
    ]
    if not counted:
        return {}
    return {int(rank): int(n) for rank, n in session.execute(union_all(*counted))}


def due(session: Session, now: datetime, limit: int) -> list[CommError]:
    """Errors with a clock to check, locked (others' workers skip them)."""
    query = (
        select(CommError)
        .where(CommError.next_check_at.is_not(None), CommError.next_check_at <= now)
        .order_by(CommError.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def add_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(_T.insert(), list(rows))


def events_of(
    session: Session, *, error_ids: Sequence[int] = (), problem_id: int | None = None
) -> list[CommErrorEvent]:
    where: list[ColumnElement[bool]] = []
    if error_ids:
        where.append(CommErrorEvent.error_id.in_(error_ids))
    if problem_id is not None:
        where.append(CommErrorEvent.problem_id == problem_id)
    if not where:
        return []
    return list(session.scalars(select(CommErrorEvent).where(or_(*where)).order_by(CommErrorEvent.id)))


# Problems


def add_problem(session: Session, row: Mapping[str, Any]) -> Problem:
    problem = Problem(**row)
    session.add(problem)
    session.flush()
    return problem


def problem(session: Session, problem_id: int, *, lock: bool = False) -> Problem | None:
    query = select(Problem).where(Problem.id == problem_id)
    return session.scalars(query.with_for_update() if lock else query).first()


def problem_by_signature(session: Session, signature: str) -> Problem | None:
    """The newest problem with this signature, open ones first."""
    query = (
        select(Problem)
        .where(Problem.signature == signature)
        .order_by((Problem.status == "open").desc(), Problem.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def problems(session: Session, *, status: str | None, limit: int) -> list[Problem]:
    query = select(Problem)
    if status is not None:
        query = query.where(Problem.status == status)
    return list(session.scalars(query.order_by(Problem.id.desc()).limit(limit)))


def errors_sharing(session: Session, values: Mapping[str, str | None], *, without_problem: bool) -> list[CommError]:
    """Errors whose cause columns equal these values (every one given), optionally only those in no problem."""
    query = select(CommError).where(and_(*(_E.c[k] == v for k, v in values.items())))
    if without_problem:
        query = query.where(CommError.problem_id.is_(None))
    return list(session.scalars(query.order_by(CommError.id)))


def set_problem(session: Session, error_ids: Sequence[int], problem_id: int | None, now: datetime) -> None:
    if error_ids:
        session.execute(update(_E).where(_E.c.id.in_(error_ids)).values(problem_id=problem_id, updated_at=now))


def errors_of_problem(session: Session, problem_id: int) -> list[CommError]:
    return list(session.scalars(select(CommError).where(CommError.problem_id == problem_id).order_by(CommError.id)))


def problem_error_counts(session: Session, problem_ids: Sequence[int]) -> dict[int, int]:
    if not problem_ids:
        return {}
    query = select(_E.c.problem_id, func.count()).where(_E.c.problem_id.in_(problem_ids)).group_by(_E.c.problem_id)
    return {int(p): int(n) for p, n in session.execute(query)}


def recipients(session: Session, problem_id: int) -> list[ProblemRecipient]:
    query = select(ProblemRecipient).where(ProblemRecipient.problem_id == problem_id).order_by(ProblemRecipient.id)
    return list(session.scalars(query))


def acted_row_ids(session: Session, problem_id: int) -> set[int]:
    query = select(_R.c.communication_row_id).where(_R.c.problem_id == problem_id)
    return {int(r) for r in session.execute(query).scalars()}


def add_recipients(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        session.execute(_R.insert(), list(rows))


# Reports


def counts_by(session: Session, column: str, since: datetime) -> list[tuple[str | None, int]]:
    """How many errors were reported since `since`, per value of one column (harm, template, source_system…)."""
    query = (
        select(_E.c[column], func.count())
        .where(_E.c.reported_at >= since)
        .group_by(_E.c[column])
        .order_by(func.count().desc())
    )
    return [(None if v is None else str(v), int(n)) for v, n in session.execute(query)]


def clock_rows(
    session: Session, since: datetime
) -> list[tuple[str, datetime, datetime | None, datetime, datetime | None, datetime]]:
    """(severity, reported, acknowledged, ack due, resolved, resolve due) of every error reported since `since`."""
    query = select(
        _E.c.severity, _E.c.reported_at, _E.c.acknowledged_at, _E.c.acknowledge_due_at, _E.c.resolved_at,
        _E.c.resolve_due_at,
    ).where(_E.c.reported_at >= since)  # fmt: skip
    return [(str(a), b, c, d, e, f) for a, b, c, d, e, f in session.execute(query)]


# Erasure


def erase(session: Session, profile_ids: Sequence[int], now: datetime) -> int:
    """Empty the personal content of errors about these people (the reports they made or the communications they
    were sent), and forget them as blast-radius recipients; returns how many reports were emptied."""
    named = select(_L.c.error_id).where(_L.c.profile_id.in_(profile_ids))
    result = session.execute(
        update(_E)
        .where(or_(_E.c.profile_id.in_(profile_ids), _E.c.id.in_(named)))
        .values(shown=None, expected=None, description=None, resolution=None, updated_at=now)
    )
    session.execute(delete(_R).where(_R.c.profile_id.in_(profile_ids)))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE
