"""The words of a case and its state machine. Pure: values in, values out."""

from __future__ import annotations

import re

from seamline.core.errors import FieldError

QUEUE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
PRIORITIES = ("urgent", "high", "normal", "low")
STATUSES = ("open", "pending-customer", "escalated", "resolved", "closed")
DIRECTIONS = ("inbound", "outbound", "internal")
AUTHOR_KINDS = ("customer", "agent", "system")
ENTRY_KINDS = ("message", "note", "event")
CHANNELS = ("phone", "email", "chat", "sms", "web", "app", "branch", "console", "social", "post", "api")

# Where a case may go from each status. `escalated` is entered only through escalation, which needs a reason;
# `closed` is final: a customer writing again after closure starts a new case (Zendesk's rule for closed tickets).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("pending-customer", "escalated", "resolved"),
    "pending-customer": ("open", "escalated", "resolved"),
    "escalated": ("open", "pending-customer", "resolved"),
    "resolved": ("open", "closed"),
    "closed": (),
}
# Leaving `escalated` (to open, pending-customer or resolved) settles an escalation: only someone who supervises
# cases may do it (the console's `cases:supervise` permission, a key's `cases:supervise` scope). An agent who
# could undo their own escalation would take the case out of the supervisors' view with nobody's name on it.
SUPERVISED_FROM = ("escalated",)
# Statuses in which someone still owes the customer something; an inbound message appends to such a case.
ACTIVE = ("open", "pending-customer", "escalated")
# Statuses in which the SLA clocks run. Pending-customer pauses them (the wait is the customer's), resolved and
# closed stop them; a reopen resumes them with the time already spent.
CLOCK_RUNS = ("open", "escalated")


def transition_error(current: str, wanted: str, *, field: str = "status") -> FieldError | None:
    """Why a case in `current` cannot move to `wanted`, or None when it can."""
    if wanted not in STATUSES:
        return FieldError(field, "invalid", f"status must be one of {', '.join(STATUSES)}, not {wanted!r}")
    if wanted == current:
        return FieldError(field, "unchanged", f"the case is already {current}")
    if wanted not in TRANSITIONS[current]:
        allowed = ", ".join(TRANSITIONS[current]) or "nothing (closed is final)"
        return FieldError(
            field,
            "invalid_transition",
            f"{'an' if current[0] in 'aeiou' else 'a'} {current} case can go to {allowed}; not {wanted}",
        )
    return None


def is_deescalation(current: str, wanted: str) -> bool:
    """Whether moving a case from `current` to `wanted` settles an escalation (a supervisor's move)."""
    return current in SUPERVISED_FROM and wanted != current


def moves_from(current: str, *, may_supervise: bool) -> tuple[str, ...]:
    """The statuses someone may move a case to by a status change (escalation has its own action)."""
    if current in SUPERVISED_FROM and not may_supervise:
        return ()
    return tuple(s for s in TRANSITIONS[current] if s != "escalated")


def choice_error(field: str, value: str, allowed: tuple[str, ...], index: int | None = None) -> FieldError | None:
    """Why `value` is not one of `allowed`, or None."""
    if value in allowed:
        return None
    return FieldError(field, "invalid", f"{field} must be one of {', '.join(allowed)}, not {value!r}", index)


def queue_error(value: str, field: str = "queue") -> FieldError | None:
    """Why a queue name is not acceptable, or None."""
    if QUEUE_NAME.fullmatch(value):
        return None
    return FieldError(field, "invalid", "a queue is 1-64 lower-case letters, digits, '.', '_' or '-'")
