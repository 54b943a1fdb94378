"""Problems: errors that share a root cause, grouped as they arrive (a person can link and split), closed only with
a root cause and a corrective action, reopened (flagged) when a new matching report comes; and their blast radius,
everyone else the same run reached, read from the communications log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from seamline.communications.service import Run, RunMember, queue_message, run_members, run_size, statuses_of
from seamline.communications.templates import Catalog
from seamline.consent.config import ConsentConfig
from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.core.principal import Principal
from seamline.errors import repository
from seamline.errors.models import CommError, Problem, ProblemRecipient
from seamline.errors.views import EventView, ProblemView

OPEN = "open"
CLOSED = "closed"
# What errors may share, strongest cause first: the first kind an error has every value of, and shares with
# another error, groups it.
# Each names the wrong field too: a misspelt name and a wrong balance in one batch have two causes.
CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("template_batch", ("template", "template_version", "batch", "field")),
    ("feed_field", ("source_system", "field")),
    ("template", ("template", "template_version", "field")),
    ("field", ("field",)),
)
NOTIFIED = "notified"
SKIPPED = "skipped"
MAX_TEXT = 2000


def _signature(kind: str, values: Sequence[str | None]) -> str:
    return "|".join([kind, *(v or "" for v in values)])[:500]


def _title(kind: str, values: dict[str, str | None]) -> str:
    words = {
        "template_batch": f"{values.get('field')} in {values.get('template')} v{values.get('template_version')}, "
        f"batch {values.get('batch')}",
        "feed_field": f"{values.get('field')} fed by {values.get('source_system')}",
        "template": f"{values.get('field')} in {values.get('template')} v{values.get('template_version')}",
        "field": f"field {values.get('field')}",
    }
    return words.get(kind, "linked by hand")[:300]


def _event(session: Session, problem_id: int, kind: str, actor: str, detail: dict[str, object], now: datetime) -> None:
    repository.add_events(
        session, [{"problem_id": problem_id, "kind": kind, "actor": actor[:200], "detail": detail, "occurred_at": now}]
    )


def attach(session: Session, error: CommError, now: datetime) -> Problem | None:
    """Group a new error: join the open problem of its cause, reopen a closed one (flagged), or open a problem
    with the earlier errors that share its cause. None when it shares a cause with nothing yet."""
    for kind, columns in CAUSES:
        values = {c: getattr(error, c) for c in columns}
        if any(v is None for v in values.values()):
            continue
        signature = _signature(kind, list(values.values()))
        found = repository.problem_by_signature(session, signature)
        if found is not None:
            if found.status == CLOSED:
                found.status, found.is_reopened, found.closed_at, found.updated_at = OPEN, True, None, now
                _event(session, found.id, "reopened", "system:errors", {"by_error": error.id}, now)
            repository.set_problem(session, [error.id], found.id, now)
            error.problem_id = found.id
            _event(session, found.id, "joined", "system:errors", {"error_id": error.id}, now)
            return found
        others = [e for e in repository.errors_sharing(session, values, without_problem=True) if e.id != error.id]
        if not others:
            continue
        problem = repository.add_problem(
            session,
            {
                "signature": signature, "grouped_by": kind, "title": _title(kind, values), "status": OPEN,
                "is_reopened": False, "opened_at": now, "updated_at": now, "template": error.template,
                "template_version": error.template_version, "batch": error.batch,
                "source_system": error.source_system, "field": error.field,
            },
        )  # fmt: skip
        ids = [e.id for e in others] + [error.id]
        repository.set_problem(session, ids, problem.id, now)
        error.problem_id = problem.id
        _event(session, problem.id, "opened", "system:errors", {"grouped_by": kind, "error_ids": ids}, now)
        return problem
    return None


def _problem(session: Session, problem_id: int, *, lock: bool = False) -> Problem:
    found = repository.problem(session, problem_id, lock=lock)
    if found is None:
        raise NotFound(f"no problem {problem_id}")
    return found


def problem_view(session: Session, problem_id: int) -> ProblemView:
    found = _problem(session, problem_id)
    return ProblemView.of(found, repository.problem_error_counts(session, [found.id]).get(found.id, 0))


def list_problems(session: Session, *, status: str | None = None, limit: int = 100) -> list[ProblemView]:
    rows = repository.problems(session, status=status, limit=limit)
    counts = repository.problem_error_counts(session, [p.id for p in rows])
    return [ProblemView.of(p, counts.get(p.id, 0)) for p in rows]


def problem_timeline(session: Session, problem_id: int) -> list[EventView]:
    """The problem's own steps and those of its errors, oldest first."""
    error_ids = [e.id for e in repository.errors_of_problem(session, problem_id)]
    return [EventView.of(e) for e in repository.events_of(session, error_ids=error_ids, problem_id=problem_id)]


def link(session: Session, problem_id: int, error_ids: Sequence[int], *, actor: Principal) -> ProblemView:
    """A person says these errors share this problem's cause (moving them from any other problem)."""
    problem = _problem(session, problem_id, lock=True)
    found = {e.id for e in repository.errors_by_ids(session, error_ids)}
    missing = [
        FieldError("error_ids", "not_found", f"no error {e}", i) for i, e in enumerate(error_ids) if e not in found
    ]
    if missing or not error_ids:
        raise InvalidInput(missing or [FieldError("error_ids", "required", "name at least one error")])
    now = utcnow()
    repository.set_problem(session, list(error_ids), problem.id, now)
    _event(session, problem.id, "linked", actor.name, {"error_ids": list(error_ids)}, now)
    return problem_view(session, problem.id)


def split(session: Session, problem_id: int, error_ids: Sequence[int], *, actor: Principal) -> ProblemView:
    """A person says these errors have another cause: they leave this problem for a new one, grouped by hand."""
    problem = _problem(session, problem_id, lock=True)
    rows = repository.errors_by_ids(session, error_ids)
    outside = [FieldError("error_ids", "not_in_problem", f"error {e.id} is not in problem {problem_id}")
               for e in rows if e.problem_id != problem_id]  # fmt: skip
    if outside or len(rows) != len(set(error_ids)) or not rows:
        raise InvalidInput(outside or [FieldError("error_ids", "invalid", "name errors of this problem")])
    now = utcnow()
    first = rows[0]
    new = repository.add_problem(
        session,
        {
            "signature": f"manual|{problem.id}|{first.id}", "grouped_by": "manual",
            "title": f"split from problem #{problem.id}", "status": OPEN, "is_reopened": False, "opened_at": now,
            "updated_at": now, "template": first.template, "template_version": first.template_version,
            "batch": first.batch, "source_system": first.source_system, "field": first.field,
        },
    )  # fmt: skip
    repository.set_problem(session, [e.id for e in rows], new.id, now)
    _event(session, problem.id, "split", actor.name, {"error_ids": [e.id for e in rows], "to": new.id}, now)
    _event(session, new.id, "opened", actor.name, {"grouped_by": "manual", "from": problem.id}, now)
    return problem_view(session, new.id)


def close_problem(
    session: Session, problem_id: int, *, root_cause: str, corrective_action: str, actor: Principal
) -> ProblemView:
    """Close a problem: it needs its root cause and the corrective action taken."""
    errors = [
        FieldError(name, "required", f"a closed problem needs its {name.replace('_', ' ')} (1-{MAX_TEXT} characters)")
        for name, value in (("root_cause", root_cause), ("corrective_action", corrective_action))
        if not value.strip() or len(value) > MAX_TEXT
    ]
    if errors:
        raise InvalidInput(errors, "the problem was not closed")
    problem = _problem(session, problem_id, lock=True)
    if problem.status == CLOSED:
        raise Conflict(f"problem {problem_id} is already closed")
    now = utcnow()
    problem.status, problem.root_cause, problem.corrective_action = (
        CLOSED,
        root_cause.strip(),
        corrective_action.strip(),
    )
    problem.closed_at, problem.closed_by, problem.updated_at = now, actor.name[:200], now
    _event(session, problem.id, "closed", actor.name, {}, now)
    return problem_view(session, problem.id)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone a run reached: their communication, whether they reported it, and what was done for them."""

    member: RunMember
    is_reported: bool
    action: str | None  # notified, skipped, or None while nothing was done
    notice_id: str | None
    notice_status: str | None  # the notice's outcome in the communications log


@dataclass(frozen=True, slots=True)
class BlastRadius:
    """Everyone else a problem's cause reached: per run, the count and a page of recipients."""

    runs: tuple[Run, ...]
    total: int  # communications the runs sent
    reported: int  # of which a report names
    recipients: tuple[Recipient, ...]
    next_after: int | None  # the row id to continue the listing from

    @property
    def others(self) -> int:
        return self.total - self.reported


def runs_of(session: Session, problem: Problem) -> list[Run]:
    """The runs (batch, template version, source system) its errors were part of."""
    return _runs(repository.errors_of_problem(session, problem.id))


def _runs(errors: Sequence[CommError]) -> list[Run]:
    runs = {
        Run(e.batch, e.template, e.template_version, e.source_system)
        for e in errors
        if e.batch is not None and e.template is not None
    }
    return sorted(runs, key=lambda r: (r.batch, r.template, r.template_version or "", r.source_system or ""))


def blast_radius(session: Session, problem_id: int, *, after_id: int = 0, limit: int = 100) -> BlastRadius:
    """Count everyone the problem's runs reached and list a page of them (log order after `after_id`)."""
    problem = _problem(session, problem_id)
    reported = repository.reported_row_ids(session, problem.id)
    acted = repository.recipients(session, problem.id)
    return _radius(session, runs_of(session, problem), reported, acted, after_id, limit)


def error_blast_radius(session: Session, error_id: int, *, after_id: int = 0, limit: int = 100) -> BlastRadius:
    """The blast radius of one error: its problem's when it has one, else everyone its own run reached."""
    found = repository.error(session, error_id)
    if found is None:
        raise NotFound(f"no communication error {error_id}")
    if found.problem_id is not None:
        return blast_radius(session, found.problem_id, after_id=after_id, limit=limit)
    reported = set(repository.communication_row_ids(session, [found.id]))
    return _radius(session, _runs([found]), reported, [], after_id, limit)


def _radius(
    session: Session,
    runs: Sequence[Run],
    reported: set[int],
    acted_on: Sequence[ProblemRecipient],
    after_id: int,
    limit: int,
) -> BlastRadius:
    total = sum(run_size(session, run) for run in runs)
    page: list[RunMember] = []
    for run in runs:
        page += run_members(session, run, after_id=after_id, limit=limit)
    page = sorted(page, key=lambda m: m.row_id)[:limit]
    acted = {r.communication_row_id: r for r in acted_on}
    notices = [r.notice_communication_id for r in acted_on if r.notice_communication_id]
    notice_statuses = statuses_of(session, notices)
    recipients = []
    for member in page:
        done = acted.get(member.row_id)
        notice = done.notice_communication_id if done is not None else None
        recipients.append(
            Recipient(
                member,
                member.row_id in reported,
                done.status if done else None,
                notice,
                notice_statuses.get(notice) if notice else None,
            )
        )
    next_after = page[-1].row_id if len(page) == limit else None
    return BlastRadius(tuple(runs), total, len(reported), tuple(recipients), next_after)


def notify_recipients(
    session: Session,
    problem_id: int,
    *,
    catalog: Catalog,
    consent: ConsentConfig,
    template: str,
    actor: Principal,
    page: int = 1000,
) -> tuple[int, int]:
    """Send everyone else the problem's runs reached a correction notice through the outbox (consent and
    reachability are asked again as each leaves); each one's outcome is then the notice's in the communications
    log. Recipients already acted on are not sent twice. Returns (notified, skipped)."""
    try:
        catalog.get(template)
    except NotFound:
        raise InvalidInput([FieldError("template", "unknown", f"no template {template!r} for the notice")]) from None
    problem = _problem(session, problem_id, lock=True)
    runs = runs_of(session, problem)
    if not runs:
        raise Conflict(f"problem {problem_id} has no run (batch and template) to find other recipients in")
    reported = repository.reported_row_ids(session, problem.id)
    acted = repository.acted_row_ids(session, problem.id)
    now = utcnow()
    notified = skipped = 0
    for run in runs:
        after = 0
        while members := run_members(session, run, after_id=after, limit=page):
            after = members[-1].row_id
            rows = []
            for member in members:
                if member.row_id in reported or member.row_id in acted:
                    continue
                row = {"problem_id": problem.id, "communication_row_id": member.row_id,
                       "profile_id": member.profile_id, "acted_at": now, "notice_communication_id": None,
                       "detail": None}  # fmt: skip
                if member.profile_id is None:
                    rows.append({**row, "status": SKIPPED, "detail": "no person on the communication"})
                    skipped += 1
                    continue
                try:
                    notice, _created = queue_message(
                        session, member.profile_id, template, {"about": f"{run.template} of {run.batch}"},
                        catalog=catalog, consent=consent, batch=f"problem-{problem.id}-notice",
                        source_system="seamline", idempotency_key=f"problem:{problem.id}:{member.row_id}",
                    )  # fmt: skip
                except NotFound as exc:
                    rows.append({**row, "status": SKIPPED, "detail": str(exc)[:500]})
                    skipped += 1
                    continue
                rows.append({**row, "status": NOTIFIED, "notice_communication_id": notice.communication_id})
                notified += 1
            repository.add_recipients(session, rows)
    _event(session, problem.id, "recipients_notified", actor.name, {"notified": notified, "skipped": skipped}, now)
    return notified, skipped
