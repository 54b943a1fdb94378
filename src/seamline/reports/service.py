"""Saved reports (a report and its filters under a name, private or shared) and scheduled reports (a saved
dashboard sent by email through the outbox). Services flush; the boundary commits.

Who sees what: a report of the catalog needs its permission (`catalog.REPORTS`); a saved report is seen by its
owner, and by everyone when shared, but only by roles that may open its report. A schedule is its owner's; the
email is computed with the tiles the owner's role sees *at send time*, and is not sent when the owner was
disabled or lost the report's permission.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from seamline.audit.service import record
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.outbox.service import enqueue
from seamline.reports import repository
from seamline.reports.cadence import CADENCES, WEEKLY, next_run
from seamline.reports.catalog import REPORTS, ReportEntry, entry
from seamline.reports.config import REPORT_KIND
from seamline.reports.dashboards import Dashboard
from seamline.reports.filters import BadFilter, Filters, filters_of
from seamline.reports.mail import message_of
from seamline.reports.models import ReportSchedule, SavedReport
from seamline.users.permissions import may
from seamline.users.service import UserView, users_by_id

MAX_NAME = 100
MAX_PARAM = 4000  # a saved page parameter (a funnel's steps, one per line)
DUE_BATCH = 50  # schedules one run of the job sends at most; the rest wait for the next run


@dataclass(frozen=True, slots=True)
class ScheduleView:
    id: int
    recipients: tuple[str, ...]
    cadence: str
    hour: int
    weekday: int | None
    next_run_at: datetime
    last_run_at: datetime | None
    last_outcome: str | None


@dataclass(frozen=True, slots=True)
class SavedView:
    id: int
    name: str
    report: ReportEntry
    filters: Filters
    owner_id: int
    owner_name: str
    is_shared: bool
    is_mine: bool
    schedules: tuple[ScheduleView, ...]
    params: Mapping[str, str] = field(default_factory=dict)  # the page's own query parameters (a funnel's steps)

    @property
    def link(self) -> str:
        """The report's page with the saved filters and parameters."""
        query = urlencode({**self.filters.as_query(), **self.params})
        return f"{self.report.path}?{query}" if query else self.report.path


def visible_reports(role: str) -> list[ReportEntry]:
    """The catalog's reports this role may open."""
    return [r for r in REPORTS if may(role, r.permission)]


def _schedule_view(row: ReportSchedule) -> ScheduleView:
    return ScheduleView(
        row.id, tuple(row.recipients), row.cadence, row.hour, row.weekday, row.next_run_at, row.last_run_at,
        row.last_outcome,
    )  # fmt: skip


def _views(session: Session, user: UserView, rows: Sequence[SavedReport]) -> list[SavedView]:
    shown = [(r, entry(r.report)) for r in rows]
    mine = [(r, e) for r, e in shown if e is not None and may(user.role, e.permission)]
    owners = users_by_id(session, [r.owner_id for r, _ in mine])
    schedules: dict[int, list[ScheduleView]] = {}
    for s in repository.schedules_of(session, [r.id for r, _ in mine]):
        schedules.setdefault(s.saved_report_id, []).append(_schedule_view(s))
    out = []
    for r, e in mine:
        assert e is not None
        owner = owners.get(r.owner_id)
        out.append(
            SavedView(
                r.id, r.name, e, filters_of(r.filters), r.owner_id, owner.display_name if owner else "(removed)",
                r.is_shared, r.owner_id == user.id, tuple(schedules.get(r.id, ())),
                {k: str(r.filters[k]) for k in e.params if k in (r.filters or {})},
            )
        )  # fmt: skip
    return out


def saved_reports(session: Session, user: UserView) -> list[SavedView]:
    """The user's own saved reports and those shared by others, of reports the user's role may open."""
    return _views(session, user, repository.visible_saved(session, user.id))


def saved_report(session: Session, user: UserView, saved_id: int) -> SavedView:
    """One saved report the user may see; NotFound otherwise (another's private one is not there for them)."""
    row = repository.saved(session, saved_id)
    found = _views(session, user, [row]) if row is not None and (row.is_shared or row.owner_id == user.id) else []
    if not found:
        raise NotFound(f"saved report {saved_id} not found")
    return found[0]


def save_report(
    session: Session,
    user: UserView,
    name: str,
    report: str,
    filters: Filters,
    *,
    shared: bool,
    now: datetime,
    params: Mapping[str, str] | None = None,
) -> SavedView:
    """Save a report with its filters (and its page's own parameters, of those the catalog names) under a name; the
    user's own report of that name is replaced."""
    name = name.strip()
    errors = []
    if not name or len(name) > MAX_NAME or not name.isprintable():
        errors.append(FieldError("name", "invalid", f"a name of 1-{MAX_NAME} characters"))
    found = entry(report)
    if found is None or not may(user.role, found.permission):
        errors.append(FieldError("report", "invalid", "not a report you may open"))
    kept = {k: v for k, v in (params or {}).items() if found is not None and k in found.params and v}
    errors += [
        FieldError(k, "too_long", f"at most {MAX_PARAM} characters") for k, v in kept.items() if len(v) > MAX_PARAM
    ]
    if errors:
        raise InvalidInput(errors, "the report was not saved")
    row = repository.saved_named(session, user.id, name)
    if row is None:
        row = SavedReport(name=name, owner_id=user.id, created_at=now)
    row.report, row.filters, row.is_shared, row.updated_at = report, {**filters.as_query(), **kept}, shared, now
    repository.add(session, row)
    return saved_report(session, user, row.id)


def _own(session: Session, user: UserView, saved_id: int) -> SavedReport:
    row = repository.saved(session, saved_id)
    if row is None or row.owner_id != user.id:
        raise NotFound(f"saved report {saved_id} not found")  # another's report is not theirs to change
    return row


def delete_saved_report(session: Session, user: UserView, saved_id: int) -> None:
    """Delete the user's own saved report and its schedules."""
    row = _own(session, user, saved_id)
    if repository.schedules_of(session, [row.id]):
        record(session, user.principal, "change", "report_schedule", row.id, {"deleted_with_report": row.name})
    repository.delete_saved(session, row.id)


def _recipients(addresses: Sequence[str], limit: int) -> tuple[list[str], list[FieldError]]:
    out: list[str] = []
    errors = []
    if not addresses:
        errors.append(FieldError("recipients", "required", "give at least one email address"))
    if len(addresses) > limit:
        errors.append(FieldError("recipients", "too_many", f"at most {limit} addresses"))
    for i, address in enumerate(addresses[:limit]):
        try:
            out.append(validate_email(address.strip(), check_deliverability=False).normalized)
        except EmailNotValidError as e:
            errors.append(FieldError("recipients", "invalid", str(e), index=i))
    return sorted(set(out)), errors


def schedule_report(
    session: Session,
    user: UserView,
    saved_id: int,
    recipients: Sequence[str],
    cadence: str,
    hour: int,
    weekday: int | None,
    *,
    now: datetime,
    max_recipients: int,
) -> ScheduleView:
    """Send the user's own saved dashboard by email every day or week at an hour (UTC)."""
    row = _own(session, user, saved_id)
    found = entry(row.report)
    addresses, errors = _recipients(recipients, max_recipients)
    if found is None or not found.is_dashboard:
        errors.append(FieldError("report", "invalid", "only a dashboard can be sent by email"))
    if cadence not in CADENCES:
        errors.append(FieldError("cadence", "invalid", f"one of {', '.join(CADENCES)}"))
    if not 0 <= hour <= 23:
        errors.append(FieldError("hour", "invalid", "an hour of 0-23 (UTC)"))
    if cadence == WEEKLY and (weekday is None or not 0 <= weekday <= 6):
        errors.append(FieldError("weekday", "invalid", "a weekday of 0 (Monday) to 6 (Sunday)"))
    if errors:
        raise InvalidInput(errors, "the report was not scheduled")
    day = weekday if cadence == WEEKLY else None
    schedule = ReportSchedule(
        saved_report_id=row.id, recipients=addresses, cadence=cadence, hour=hour, weekday=day, created_by=user.id,
        created_at=now, next_run_at=next_run(cadence, hour, day, now),
    )  # fmt: skip
    repository.add(session, schedule)
    record(session, user.principal, "change", "report_schedule", schedule.id, {"report": row.name, "to": addresses})
    return _schedule_view(schedule)


def delete_schedule(session: Session, user: UserView, schedule_id: int) -> None:
    """Stop a schedule of the user's own saved report."""
    row = repository.schedule(session, schedule_id)
    if row is None:
        raise NotFound(f"schedule {schedule_id} not found")
    _own(session, user, row.saved_report_id)
    record(session, user.principal, "change", "report_schedule", row.id, {"deleted": True})
    repository.delete_schedule(session, row.id)


Compute = Callable[[Session, ReportEntry, Filters, str, datetime], Dashboard]


def _refusal(owner: UserView | None, found: ReportEntry | None) -> str | None:
    if owner is None or owner.is_disabled:
        return "not sent: its owner's account is disabled or gone"
    if found is None or not found.is_dashboard or not may(owner.role, found.permission):
        return "not sent: its owner may no longer open this report"
    return None


def run_due(session: Session, now: datetime, compute: Compute, *, console_url: str = "") -> int:
    """Send every scheduled report due by `now` (one email per recipient through the outbox, once per due time)
    and move each to its next due time; returns how many emails were queued."""
    queued = 0
    for schedule in repository.due(session, now, DUE_BATCH):
        saved = repository.saved(session, schedule.saved_report_id)
        owner = users_by_id(session, [saved.owner_id]).get(saved.owner_id) if saved is not None else None
        found = entry(saved.report) if saved is not None else None
        refusal = _refusal(owner, found)
        if refusal is None and saved is not None and owner is not None and found is not None:
            try:
                filters = filters_of(saved.filters)
            except BadFilter:
                filters = Filters()
            dashboard = compute(session, found, filters, owner.role, now)
            subject, text, html = message_of(saved.name, dashboard, console_url)
            due_at = schedule.next_run_at.isoformat()
            for address in schedule.recipients:
                payload: dict[str, Any] = {"to": address, "subject": subject, "text": text, "html": html}
                enqueue(
                    session, REPORT_KIND, address, payload,
                    idempotency_key=f"report_schedule:{schedule.id}:{due_at}:{address}",
                )  # fmt: skip
            queued += len(schedule.recipients)
            refusal = f"queued for {len(schedule.recipients)} recipient(s)"
        schedule.last_run_at, schedule.last_outcome = now, refusal
        schedule.next_run_at = next_run(schedule.cadence, schedule.hour, schedule.weekday, now)
    session.flush()
    return queued
