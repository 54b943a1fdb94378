"""The state of the worker's periodic jobs: when each is next due, claimed with a row lock so that one worker
fires it. Domain-free; the worker's schedule (`seamline.worker.schedule`) says which jobs exist.

On PostgreSQL a due row is claimed with `FOR UPDATE SKIP LOCKED`: a worker that finds it locked goes on without
waiting, and once the holder commits, the row's next due time is in the future, so nobody fires it again. On
SQLite the claiming transaction holds the database's write lock (BEGIN IMMEDIATE), which does the same.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from seamline.core.db import Base, UtcDateTime


class ScheduledJob(Base):
    """One periodic job: when it is next due, and what its last run did."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_count: Mapped[int] = mapped_column(Integer, default=0)


def ensure_job(session: Session, name: str, first_run_at: datetime) -> None:
    """Add the job's row when it is missing (two workers starting together add it once)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {"name": name, "next_run_at": first_run_at, "last_count": 0}
    session.execute(insert(ScheduledJob).values(values).on_conflict_do_nothing(index_elements=["name"]))


def claim_due(session: Session, name: str, now: datetime) -> ScheduledJob | None:
    """The job's row, locked until the caller's transaction ends, when it is due and no other worker holds it."""
    query = (
        select(ScheduledJob)
        .where(ScheduledJob.name == name, ScheduledJob.next_run_at <= now)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(query).one_or_none()


def next_due(session: Session, names: list[str]) -> dict[str, datetime]:
    """When each job is next due."""
    rows = session.execute(select(ScheduledJob.name, ScheduledJob.next_run_at).where(ScheduledJob.name.in_(names)))
    return {str(name): at for name, at in rows}
