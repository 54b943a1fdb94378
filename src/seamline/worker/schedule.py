"""The worker's periodic jobs: a small registry of jobs, each run every so often by the worker loop.

Design. Each job has a row in `scheduled_jobs` (core/jobs.py) holding when it is next due. Between batches the
worker asks the schedule to run what is due; the schedule remembers the due times it last read, so an idle loop
does not query the database more than once a second. To run a job, a worker claims its row in a transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite), runs the job in that same transaction, moves
the due time `every` ahead and commits: any number of workers, on any number of machines, fire each due item once,
and a job that fails rolls back whole (its due time too), so the next loop tries again. Chosen over a scheduling
library (APScheduler, schedule) because those keep due times in one process's memory, or need a job store and
their own locking to run on many machines; here the row lock the workers already use for the inbox does it.

A job is `Job(name, every, run)` with `run(session, now) -> int` (how many items it handled); it only flushes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.analytics.service import Analytics
from seamline.assessment.service import Assessment
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.jobs import claim_due, ensure_job, next_due
from seamline.destinations.consent_changes import ANNOUNCE_EVERY, ConsentAnnouncer
from seamline.errors.config import ErrorsConfig
from seamline.errors.escalation import run_due as run_error_clocks
from seamline.errors.policystore import PolicyStore
from seamline.journeys.stalls import StallScan
from seamline.reports.catalog import ReportEntry
from seamline.reports.dashboards import Dashboard, Dashboards
from seamline.reports.filters import Filters
from seamline.reports.service import run_due as send_scheduled_reports
from seamline.worker.triggers import reports_audience

log = logging.getLogger(__name__)
POLL = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class Job:
    """A periodic job: its name (the key of its row), how often, and what it does."""

    name: str
    every: timedelta
    run: Callable[[Session, datetime], int]


class ErrorClocks:
    """The communication errors' escalation clocks; the policy file is read on the first run, not at start."""

    def __init__(self, config: ErrorsConfig) -> None:
        self._config = config
        self._policy: PolicyStore | None = None

    def __call__(self, session: Session, now: datetime) -> int:
        if self._policy is None:
            self._policy = PolicyStore(self._config.policy_file)
        return run_error_clocks(session, now, self._policy)


def error_clocks(config: ErrorsConfig) -> Job:
    return Job("errors.clocks", timedelta(seconds=config.check_seconds), ErrorClocks(config))


class ScheduledReports:
    """The scheduled reports due: each computed (on the job's session) and emailed through the outbox. The
    assessment's columnar copy is built on the first run that needs it, not at start."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._dashboards: Dashboards | None = None

    def _compute(self, session: Session, entry: ReportEntry, filters: Filters, role: str, now: datetime) -> Dashboard:
        if self._dashboards is None:
            bind = session.get_bind()
            engine = bind if isinstance(bind, Engine) else bind.engine
            assessment = Assessment(engine, Catalog(self._settings.email.templates_dir), self._settings.assessment)
            self._dashboards = Dashboards(
                engine, assessment, Analytics(engine), self._settings.reports, reports_audience(self._settings)
            )
        return self._dashboards.compute(entry, filters, role, session=session, now=now)

    def __call__(self, session: Session, now: datetime) -> int:
        return send_scheduled_reports(session, now, self._compute, console_url=self._settings.public_base_url)


def reports_schedules(settings: Settings) -> Job:
    return Job(
        "reports.schedules", timedelta(seconds=settings.reports.schedule_check_seconds), ScheduledReports(settings)
    )


def default_jobs(settings: Settings) -> list[Job]:
    """The jobs every worker runs (the worker adds its triggers' due steps, which need its pipeline)."""
    return [
        Job("journeys.stall_scan", timedelta(seconds=settings.journeys.stall_scan_seconds), StallScan(settings.cases)),
        error_clocks(settings.errors),
        reports_schedules(settings),
        Job("destinations.consent_changes", ANNOUNCE_EVERY, ConsentAnnouncer(settings.consent)),
    ]


class Schedule:
    """Runs the due jobs of a registry, each due item once across every worker."""

    def __init__(self, engine: Engine, jobs: Sequence[Job], clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._jobs = {job.name: job for job in jobs}
        self._clock = clock
        self._due: dict[str, datetime] = {}
        self._checked: datetime | None = None

    def _refresh(self, now: datetime) -> None:
        with unit_of_work(self._engine) as session:
            for job in self._jobs.values():
                ensure_job(session, job.name, now)
            self._due = next_due(session, list(self._jobs))
        self._checked = now

    def run_due(self) -> dict[str, int]:
        """Run every job that is due now; what each that ran handled."""
        now = self._clock()
        if self._checked is None or now - self._checked >= POLL:
            self._refresh(now)
        ran: dict[str, int] = {}
        for name, job in self._jobs.items():
            if self._due.get(name, now) > now:
                continue
            with unit_of_work(self._engine) as session:
                row = claim_due(session, name, now)
                if row is None:  # another worker holds it, or has just run it
                    self._checked = None
                    continue
                count = job.run(session, now)
                row.last_run_at, row.last_count, row.next_run_at = now, count, now + job.every
                self._due[name] = row.next_run_at
            ran[name] = count
            if count:
                log.info("job %s handled %d", name, count)
        return ran
