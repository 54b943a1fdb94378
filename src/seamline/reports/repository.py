"""Queries of the reports area: saved reports and their schedules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from seamline.reports.models import ReportSchedule, SavedReport


def add(session: Session, row: SavedReport | ReportSchedule) -> None:
    session.add(row)
    session.flush()


def saved(session: Session, saved_id: int) -> SavedReport | None:
    return session.get(SavedReport, saved_id)


def saved_named(session: Session, owner_id: int, name: str) -> SavedReport | None:
    query = select(SavedReport).where(SavedReport.owner_id == owner_id, SavedReport.name == name)
    return session.scalars(query).first()


def visible_saved(session: Session, user_id: int) -> Sequence[SavedReport]:
    """A user's own saved reports and everyone's shared ones, by name."""
    query = select(SavedReport).where(or_(SavedReport.owner_id == user_id, SavedReport.is_shared.is_(True)))
    return session.scalars(query.order_by(SavedReport.name, SavedReport.id)).all()


def delete_saved(session: Session, saved_id: int) -> None:
    session.execute(delete(ReportSchedule).where(ReportSchedule.saved_report_id == saved_id))
    session.execute(delete(SavedReport).where(SavedReport.id == saved_id))


def schedule(session: Session, schedule_id: int) -> ReportSchedule | None:
    return session.get(ReportSchedule, schedule_id)


def schedules_of(session: Session, saved_ids: Sequence[int]) -> Sequence[ReportSchedule]:
    if not saved_ids:
        return []
    query = select(ReportSchedule).where(ReportSchedule.saved_report_id.in_(list(saved_ids)))
    return session.scalars(query.order_by(ReportSchedule.id)).all()


def delete_schedule(session: Session, schedule_id: int) -> None:
    session.execute(delete(ReportSchedule).where(ReportSchedule.id == schedule_id))


def due(session: Session, now: datetime, limit: int) -> Sequence[ReportSchedule]:
    """Schedules due by `now`, oldest due first (the caller holds the schedule job's row lock)."""
    query = select(ReportSchedule).where(ReportSchedule.next_run_at <= now).order_by(ReportSchedule.next_run_at)
    return session.scalars(query.limit(limit)).all()
