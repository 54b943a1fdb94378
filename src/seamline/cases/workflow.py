"""Moving a case along: status (resolve, close, reopen, pending-customer), priority, assignment and pick-up,
and escalation to the supervisors' queue. Each change is checked against the state machine in lifecycle.py,
recorded on the thread with who made it, and re-times the SLA clocks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.cases import repository
from seamline.cases.config import CasesConfig
from seamline.cases.lifecycle import PRIORITIES, choice_error, is_deescalation, queue_error, transition_error
from seamline.cases.models import Case
from seamline.cases.service import get_case
from seamline.cases.thread import (
    MAX_NAME,
    TransitionRefused,
    check_actor,
    locked,
    name_error,
    raise_if,
    record_event,
    refresh_due,
    text_error,
)
from seamline.cases.views import CaseView
from seamline.core.clock import isoformat_z, utcnow
from seamline.core.errors import FieldError, Forbidden

MAX_REASON = 2_000


def change_status(
    session: Session,
    config: CasesConfig,
    case_id: int,
    status: str,
    *,
    actor: str,
    surface: str,
    reason: str | None = None,
    may_supervise: bool = False,
    now: datetime | None = None,
) -> CaseView:
    """Move a case to another status: open (a reopen, from resolved), pending-customer, resolved or closed.

    Escalation has its own function, because it needs a reason and a queue. Moving an escalated case on settles
    its escalation, which only a supervisor may do (`may_supervise`, decided by the caller's role or scope): the
    case goes back to the queue it was escalated from, keeps its assignee, and is no longer escalated anywhere.
    """
    check_actor(actor, surface)
    raise_if([text_error("reason", reason, MAX_REASON, is_required=False)], "the status was not changed")
    if status == "escalated":
        raise_if([FieldError("status", "invalid", "escalate with a reason instead")], "the status was not changed")
    case = locked(session, case_id)
    if (problem := transition_error(case.status, status)) is not None:
        if problem.code == "invalid":
            raise_if([problem], "the status was not changed")
        raise TransitionRefused(problem)
    if is_deescalation(case.status, status) and not may_supervise:
        raise Forbidden(f"case {case.id} is escalated: a supervisor settles it (pick it up, resolve or reopen it)")
    now = now or utcnow()
    was, case.status = case.status, status
    if status == "resolved":
        case.resolved_at = now
    elif status == "closed":
        case.closed_at = now
    elif status == "open":
        case.resolved_at = None
    verb = "reopened" if was == "resolved" and status == "open" else f"{was} → {status}"
    detail: dict[str, Any] = {"from": was, "to": status}
    if is_deescalation(was, status):
        verb += _settle_escalation(session, config, case, detail)
    body = f"{verb}: {reason.strip()}" if reason and reason.strip() else verb
    record_event(session, case, body, actor=actor, surface=surface, now=now, status=status, detail=detail)
    refresh_due(session, config, case, now)
    return get_case(session, config, case.id, now=now)


def _settle_escalation(session: Session, config: CasesConfig, case: Case, detail: dict[str, Any]) -> str:
    """Clear a settled escalation from the case (its thread keeps it, and `detail` carries it) and send the case
    back to the queue it came from, unless a supervisor has moved it elsewhere since; returns words for the thread.
    """
    entered = repository.last_entering(session, case.id, "escalated")
    escalated_to = (entered.detail or {}).get("queue", [None, None])[1] if entered is not None else None
    detail["escalation"] = {
        "at": isoformat_z(case.escalated_at) if case.escalated_at else None,
        "by": case.escalated_by,
        "reason": case.escalation_reason,
        "from_queue": case.escalated_from_queue,
    }
    words = ""
    back = case.escalated_from_queue
    if back is not None and back != case.queue and case.queue in (escalated_to, config.supervisor_queue):
        detail["queue"] = [case.queue, back]
        words = f"; back to {back}"
        case.queue = back
    case.escalated_at = case.escalated_by = case.escalation_reason = case.escalated_from_queue = None
    return words


def change_priority(
    session: Session,
    config: CasesConfig,
    case_id: int,
    priority: str,
    *,
    actor: str,
    surface: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Set a case's priority; its SLA targets follow, counted from when the case was opened (time already spent
    stays spent)."""
    check_actor(actor, surface)
    raise_if(
        [choice_error("priority", priority, PRIORITIES), text_error("reason", reason, MAX_REASON, is_required=False)],
        "the priority was not changed",
    )
    case = locked(session, case_id)
    if case.status == "closed":
        raise TransitionRefused(FieldError("priority", "closed", f"case {case.id} is closed"))
    if case.priority == priority:
        raise TransitionRefused(FieldError("priority", "unchanged", f"the case is already {priority}"))
    now = now or utcnow()
    was, case.priority = case.priority, priority
    body = f"priority {was} → {priority}" + (f": {reason.strip()}" if reason and reason.strip() else "")
    record_event(session, case, body, actor=actor, surface=surface, now=now, detail={"from": was, "to": priority})
    refresh_due(session, config, case, now)
    return get_case(session, config, case.id, now=now)


def assign(
    session: Session,
    config: CasesConfig,
    case_id: int,
    assignee: str | None,
    *,
    actor: str,
    surface: str,
    queue: str | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Give a case to an agent (a console user name), or to nobody with None; `queue` also moves it there."""
    check_actor(actor, surface)
    errors = [queue_error(queue) if queue is not None else None]
    if assignee is not None:
        errors.append(name_error("assignee", assignee))
    raise_if(errors, "the case was not assigned")
    case = locked(session, case_id)
    if case.status == "closed":
        raise TransitionRefused(FieldError("assignee", "closed", f"case {case.id} is closed"))
    now = now or utcnow()
    was_assignee, was_queue = case.assignee, case.queue
    case.assignee = assignee
    if queue is not None:
        case.queue = queue
    parts = [f"assigned to {assignee}" if assignee else "unassigned"]
    if queue is not None and queue != was_queue:
        parts.append(f"moved {was_queue} → {queue}")
    record_event(
        session, case, "; ".join(parts), actor=actor, surface=surface, now=now,
        detail={"assignee": [was_assignee, assignee], "queue": [was_queue, case.queue]},
    )  # fmt: skip
    return get_case(session, config, case.id, now=now)


def pick_up(
    session: Session, config: CasesConfig, case_id: int, *, actor: str, surface: str, now: datetime | None = None
) -> CaseView:
    """The acting agent takes an unassigned case (or one already theirs); someone else's case is refused."""
    check_actor(actor, surface)
    case = locked(session, case_id)
    if case.assignee is not None and case.assignee != actor:
        raise TransitionRefused(FieldError("assignee", "taken", f"case {case.id} is assigned to {case.assignee}"))
    if case.assignee == actor:
        return get_case(session, config, case.id, now=now)
    return assign(session, config, case_id, actor, actor=actor, surface=surface, now=now)


def escalate(
    session: Session,
    config: CasesConfig,
    case_id: int,
    *,
    reason: str,
    actor: str,
    surface: str,
    queue: str | None = None,
    now: datetime | None = None,
) -> CaseView:
    """Escalate a case to the supervisors' queue (or `queue`), unassigned, with the reason on the case and its
    thread; the SLA clocks keep running."""
    check_actor(actor, surface)
    target = queue or config.supervisor_queue
    raise_if([text_error("reason", reason, MAX_REASON), queue_error(target)], "the case was not escalated")
    case = locked(session, case_id)
    if (problem := transition_error(case.status, "escalated")) is not None:
        raise TransitionRefused(problem)
    now = now or utcnow()
    was_status, was_queue, was_assignee = case.status, case.queue, case.assignee
    case.status, case.queue, case.assignee = "escalated", target, None
    case.escalated_at, case.escalated_by, case.escalation_reason = now, actor[:MAX_NAME], reason.strip()
    case.escalated_from_queue = was_queue
    record_event(
        session,
        case,
        f"escalated to {target}: {reason.strip()}",
        actor=actor,
        surface=surface,
        now=now,
        status="escalated",
        detail={"from": was_status, "to": "escalated", "queue": [was_queue, target], "assignee": was_assignee},
    )
    refresh_due(session, config, case, now)
    return get_case(session, config, case.id, now=now)
