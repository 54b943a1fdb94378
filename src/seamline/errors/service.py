"""Rules of communication errors: take a report (console, API, sampling file, another system), classify it by
policy, start its clocks, tell its owner, group it with errors of the same cause; acknowledge, resolve, settle a
regulatory clock; read the queue. Services only flush; the caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from seamline.audit.service import record
from seamline.communications.service import described
from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.core.principal import Principal
from seamline.errors import repository
from seamline.errors.escalation import next_check, notify_level, notify_regulatory
from seamline.errors.models import CommError
from seamline.errors.policy import RANK, SEVERITIES, Policy, classify, deadlines, harm_for
from seamline.errors.problems import attach
from seamline.errors.views import ACKNOWLEDGED, FIXED, INTAKES, OPEN, RESOLVED, ErrorView, EventView

MAX_COMMUNICATIONS = 20
MAX_TEXT = 1000
MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class Report:
    """One report that a communication was wrong."""

    communication_ids: Sequence[str]
    field: str
    shown: str | None = None
    expected: str | None = None
    description: str | None = None
    harm: str | None = None
    customers_affected: int = 1
    is_vulnerable: bool = False
    profile_id: int | None = None  # the customer it was sent to; read from the first communication when absent
    case_id: int | None = None
    external_ref: str | None = None


def _problems(policy: Policy, report: Report, index: int | None) -> list[FieldError]:
    errors = []
    field = report.field.strip()
    if not field or len(field) > 100:
        errors.append(FieldError("field", "invalid", "name the field that was wrong (1-100 characters)", index))
    if not report.communication_ids:
        errors.append(FieldError("communication_ids", "required", "name at least one communication", index))
    elif len(report.communication_ids) > MAX_COMMUNICATIONS:
        errors.append(FieldError("communication_ids", "too_many", f"at most {MAX_COMMUNICATIONS}", index))
    for name in ("shown", "expected"):
        value = getattr(report, name)
        if value is not None and len(value) > MAX_TEXT:
            errors.append(FieldError(name, "too_long", f"{name} has at most {MAX_TEXT} characters", index))
    if report.description is not None and len(report.description) > MAX_NOTE:
        errors.append(FieldError("description", "too_long", f"at most {MAX_NOTE} characters", index))
    if report.customers_affected < 1:
        errors.append(FieldError("customers_affected", "invalid", "at least 1", index))
    harm = harm_for(policy, field, report.harm)
    if harm is None:
        errors.append(
            FieldError(
                "harm",
                "required",
                f"the policy reads no harm from field {field!r}: name one of {', '.join(policy.harms)}",
                index,
            )
        )
    elif harm not in policy.harms:
        errors.append(FieldError("harm", "invalid", f"harm must be one of {', '.join(policy.harms)}", index))
    if report.external_ref is not None and not 1 <= len(report.external_ref) <= 200:
        errors.append(FieldError("external_ref", "invalid", "1-200 characters", index))
    return errors


def report_errors(
    session: Session,
    policy: Policy,
    reports: Sequence[Report],
    *,
    actor: Principal,
    intake: str,
    now: datetime | None = None,
) -> list[ErrorView]:
    """Take reports, all or none (each mistake named with its report's index): classify each by policy, start its
    clocks, tell its owner (and any regulatory clock's people), and group it with errors of the same cause."""
    if intake not in INTAKES:
        raise ValueError(f"intake {intake!r} is not one of {INTAKES}")  # a programming error at an edge
    many = len(reports) > 1
    errors: list[FieldError] = []
    for i, report in enumerate(reports):
        errors += _problems(policy, report, i if many else None)
    refs = [r.external_ref for r in reports if r.external_ref]
    for i, report in enumerate(reports):
        if report.external_ref and (refs.count(report.external_ref) > 1):
            errors.append(FieldError("external_ref", "duplicate", "twice in these reports", i if many else None))
    known = repository.external_refs(session, refs)
    for i, report in enumerate(reports):
        if report.external_ref in known:
            errors.append(
                FieldError("external_ref", "taken", f"{report.external_ref!r} was reported before", i if many else None)
            )
    found = described(session, [c for r in reports for c in r.communication_ids])
    for i, report in enumerate(reports):
        for c in report.communication_ids:
            if c not in found:
                errors.append(
                    FieldError(
                        "communication_ids", "not_found", f"no communication {c!r} in the log", i if many else None
                    )
                )
    if errors:
        raise InvalidInput(errors, "no error was reported")
    now = now or utcnow()
    views = []
    for report in reports:
        named = [found[c] for c in dict.fromkeys(report.communication_ids)]  # each once, in the order given
        views.append(_take(session, policy, report, named, actor, intake, now))
    return views


def _take(
    session: Session,
    policy: Policy,
    report: Report,
    communications: Sequence[Any],
    actor: Principal,
    intake: str,
    now: datetime,
) -> ErrorView:
    first = communications[0]
    field = report.field.strip()
    harm = harm_for(policy, field, report.harm)
    assert harm is not None  # checked
    judged = classify(policy, harm, report.customers_affected, report.is_vulnerable)
    due = deadlines(policy, harm, judged.severity, now)
    row = repository.add_error(
        session,
        {
            "profile_id": report.profile_id if report.profile_id is not None else first.profile_id,
            "case_id": report.case_id, "intake": intake, "reporter": actor.name[:200],
            "external_ref": report.external_ref, "field": field, "shown": report.shown, "expected": report.expected,
            "description": report.description, "harm": harm, "customers_affected": report.customers_affected,
            "is_vulnerable": report.is_vulnerable, "severity": judged.severity, "severity_rank": RANK[judged.severity],
            "severity_reason": judged.reason[:500], "owner_team": policy.severities[judged.severity].owner,
            "template": first.template, "template_version": first.template_version, "batch": first.batch,
            "source_system": first.source_system, "channel": first.channel, "status": OPEN, "is_open": True,
            "escalation_level": 0, "reported_at": now, "acknowledge_due_at": due.acknowledge_due_at,
            "resolve_due_at": due.resolve_due_at, "acknowledge_missed": False, "resolve_missed": False,
            "regulatory_clock": due.regulatory_clock, "regulatory_due_at": due.regulatory_due_at,
            "regulatory_warn_at": due.regulatory_warn_at, "regulatory_warned": False, "updated_at": now,
        },
    )  # fmt: skip
    row.next_check_at = next_check(row)
    repository.link_communications(
        session,
        [
            {"error_id": row.id, "communication_row_id": c.id, "communication_id": c.communication_id,
             "profile_id": c.profile_id}
            for c in communications
        ],
    )  # fmt: skip
    detail = {"severity": judged.severity, "harm": harm, "reason": judged.reason, "intake": intake}
    repository.add_events(
        session,
        [{"error_id": row.id, "kind": "reported", "actor": actor.name[:200], "detail": detail, "occurred_at": now}],
    )
    if not judged.may_fix_at_contact:
        # What the agent cannot fix on the call goes to its owner now; a simple error waits for the agent's fix
        # (its clocks run, and a missed one escalates it like any other).
        notify_level(session, policy, row, "new error reported", now)
    notify_regulatory(session, policy, row, "clock started", now)
    attach(session, row, now)
    if row.profile_id is not None:
        record(session, actor, "change", "profile", row.profile_id, {"comm_error": row.id, "action": "reported"})
    session.flush()
    return ErrorView.of(row, [c.communication_id for c in communications])


def _open_row(session: Session, error_id: int) -> CommError:
    row = repository.error(session, error_id, lock=True)
    if row is None:
        raise NotFound(f"no communication error {error_id}")
    return row


def acknowledge(session: Session, error_id: int, *, actor: Principal, now: datetime | None = None) -> ErrorView:
    """Its owner has seen it: the acknowledgement clock stops."""
    row = _open_row(session, error_id)
    if row.status != OPEN:
        raise Conflict(f"error {error_id} is {row.status}, not open")
    now = now or utcnow()
    row.status, row.acknowledged_at, row.acknowledged_by, row.updated_at = ACKNOWLEDGED, now, actor.name[:200], now
    row.next_check_at = next_check(row)
    _event(session, row, "acknowledged", actor, {}, now)
    return view(session, error_id)


def resolve(session: Session, error_id: int, note: str, *, actor: Principal, now: datetime | None = None) -> ErrorView:
    """Resolve an error with what was done; the resolution clock stops (a regulatory clock keeps running until it
    is settled)."""
    if not note.strip() or len(note) > MAX_TEXT:
        raise InvalidInput([FieldError("note", "required", f"say what was done (1-{MAX_TEXT} characters)")])
    row = _open_row(session, error_id)
    if not row.is_open:
        raise Conflict(f"error {error_id} is already {row.status}")
    now = now or utcnow()
    row.acknowledged_at = row.acknowledged_at or now
    row.acknowledged_by = row.acknowledged_by or actor.name[:200]
    row.status, row.is_open, row.resolution = RESOLVED, False, note.strip()
    row.resolved_at, row.resolved_by, row.updated_at = now, actor.name[:200], now
    row.next_check_at = next_check(row)
    _event(session, row, "resolved", actor, {}, now)
    return view(session, error_id)


def close_fixed(session: Session, row: CommError, correction_event_id: int, actor: Principal, now: datetime) -> None:
    """Close an error as fixed at first contact, linked to the correction that fixed it."""
    row.status, row.is_open, row.resolution = FIXED, False, "fixed at first contact"
    row.correction_event_id = correction_event_id
    row.acknowledged_at, row.acknowledged_by = row.acknowledged_at or now, row.acknowledged_by or actor.name[:200]
    row.resolved_at, row.resolved_by, row.updated_at = now, actor.name[:200], now
    row.next_check_at = next_check(row)
    _event(session, row, "fixed", actor, {"correction_event_id": correction_event_id}, now)


def close_resent(
    session: Session, row: CommError, correction_event_id: int, communication_id: str, actor: Principal, now: datetime
) -> None:
    """Close an error as resolved by correcting the source value and re-sending the communication with it, linked
    to both the correction and the new communication."""
    row.status, row.is_open = RESOLVED, False
    row.resolution = f"corrected and re-sent as communication {communication_id}"
    row.correction_event_id, row.resent_communication_id = correction_event_id, communication_id
    row.acknowledged_at, row.acknowledged_by = row.acknowledged_at or now, row.acknowledged_by or actor.name[:200]
    row.resolved_at, row.resolved_by, row.updated_at = now, actor.name[:200], now
    row.next_check_at = next_check(row)
    detail = {
        "correction_event_id": correction_event_id,
        "communication_id": communication_id,
        "reason": f"corrected and re-sent as {communication_id}",
    }
    _event(session, row, "resent", actor, detail, now)


def settle_regulatory(
    session: Session, error_id: int, decision: str, *, actor: Principal, now: datetime | None = None
) -> ErrorView:
    """Record the regulatory decision (told the authority, or judged not reportable); its clock stops."""
    if decision not in ("reported", "not_reportable"):
        raise InvalidInput([FieldError("decision", "invalid", "decision is reported or not_reportable")])
    row = _open_row(session, error_id)
    if row.regulatory_clock is None or row.regulatory_done_at is not None:
        raise Conflict(f"error {error_id} has no regulatory clock running")
    now = now or utcnow()
    row.regulatory_done_at, row.updated_at = now, now
    row.next_check_at = next_check(row)
    _event(session, row, "regulatory_settled", actor, {"decision": decision}, now)
    return view(session, error_id)


def _event(
    session: Session, row: CommError, kind: str, actor: Principal, detail: dict[str, Any], now: datetime
) -> None:
    repository.add_events(
        session, [{"error_id": row.id, "kind": kind, "actor": actor.name[:200], "detail": detail, "occurred_at": now}]
    )
    if row.profile_id is not None:
        record(session, actor, "change", "profile", row.profile_id, {"comm_error": row.id, "action": kind})


def view(session: Session, error_id: int) -> ErrorView:
    """One error with the communications it names; NotFound when none."""
    row = repository.error(session, error_id)
    if row is None:
        raise NotFound(f"no communication error {error_id}")
    return ErrorView.of(row, repository.communications_of(session, [row.id]).get(row.id, []))


def timeline(session: Session, error_id: int) -> list[EventView]:
    return [EventView.of(e) for e in repository.events_of(session, error_ids=[error_id])]


QUEUE_LIMIT = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class QueueKey:
    """Where an error stands in the queue: the key a page continues after."""

    severity_rank: int
    resolve_due_at: datetime
    id: int

    @classmethod
    def of(cls, error: ErrorView) -> QueueKey:
        return cls(RANK[error.severity], error.resolve_due_at, error.id)

    def token(self) -> str:
        """As text for a link: rank.microseconds-since-1970.id."""
        return f"{self.severity_rank}.{(self.resolve_due_at - _EPOCH) // timedelta(microseconds=1)}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> QueueKey:
        """The key of a link; InvalidInput naming `after` when it is not one."""
        parts = token.split(".")
        if len(parts) != 3 or not all(p.isdigit() and len(p) <= 18 for p in parts):
            raise InvalidInput([FieldError("after", "invalid", "a queue position from a Next page link")])
        rank, micros, error_id = (int(p) for p in parts)
        try:
            return cls(rank, _EPOCH + timedelta(microseconds=micros), error_id)
        except OverflowError:
            raise InvalidInput([FieldError("after", "invalid", "a queue position from a Next page link")]) from None


def error_queue(
    session: Session,
    *,
    is_open: bool = True,
    severity: str | None = None,
    harm: str | None = None,
    problem_id: int | None = None,
    profile_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
    after: QueueKey | None = None,
) -> list[ErrorView]:
    """The errors queue: most severe first, then the soonest resolution deadline; `after` a page's last key
    (`queue_key`) reads the next page by the index."""
    errors = []
    if not 1 <= limit <= QUEUE_LIMIT:
        errors.append(FieldError("limit", "invalid", f"limit is 1-{QUEUE_LIMIT}"))
    if severity is not None and severity not in SEVERITIES:
        errors.append(FieldError("severity", "invalid", f"severity is one of {', '.join(SEVERITIES)}"))
    if errors:
        raise InvalidInput(errors)
    rows = repository.queue(
        session, is_open=is_open, severity_rank=RANK[severity] if severity else None, harm=harm,
        problem_id=problem_id, profile_id=profile_id, limit=limit, offset=max(offset, 0),
        after=(after.severity_rank, after.resolve_due_at, after.id) if after else None,
    )  # fmt: skip
    links = repository.communications_of(session, [r.id for r in rows])
    return [ErrorView.of(r, links.get(r.id, [])) for r in rows]


@dataclass(frozen=True, slots=True)
class RaisedOn:
    """An error linked to a communication: raised on it, or the error it was re-sent for."""

    error_id: int
    severity: str
    status: str
    is_resend: bool


def errors_on(session: Session, communication_ids: Sequence[str]) -> dict[str, list[RaisedOn]]:
    """Per communication id, the errors raised on it and the error it was re-sent for (ids, severity and status:
    no personal content), for a customer's communications list."""
    out: dict[str, list[RaisedOn]] = {}
    for communication_id, error_id, severity, status, is_resend in repository.raised_on(session, communication_ids):
        out.setdefault(communication_id, []).append(RaisedOn(error_id, severity, status, is_resend))
    return out


COUNT_CAP = 1000


def open_counts(session: Session, cap: int = COUNT_CAP) -> dict[str, int]:
    """How many errors are open, per severity, counted up to `cap` + 1 (more than `cap` reads as "cap+")."""
    by_rank = repository.count_open(session, list(RANK.values()), cap)
    return {name: by_rank[rank] for name, rank in RANK.items()}


def erase_person(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: empty what the error reports about these people said (what was shown and expected, the
    description, the resolution note), and forget them as blast-radius recipients. Returns how many reports."""
    return repository.erase(session, profile_ids, utcnow()) if profile_ids else 0
