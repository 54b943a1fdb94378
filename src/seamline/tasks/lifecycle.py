"""The words of a task and its due time on the business clock. Pure: values in, values out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from seamline.cases.sla import BusinessCalendar
from seamline.core.errors import FieldError

QUEUE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
SKILL_NAME = QUEUE_NAME
PRIORITIES = ("urgent", "high", "normal", "low")
OPEN, IN_PROGRESS, DONE = "open", "in-progress", "done"
STATUSES = (OPEN, IN_PROGRESS, DONE)
ACTIVE = (OPEN, IN_PROGRESS)
# What came of a task: the customer was reached and helped, reached and referred on, not reached, or it was not
# needed after all. A follow-up is a new task of its own, linked to this one.
OUTCOMES = ("resolved", "referred", "no-contact", "not-needed")


def routing_errors(queue: str, skills: Sequence[str], priority: str, *, prefix: str = "") -> list[FieldError]:
    """Why a queue, skill list or priority cannot be used (empty when they can)."""
    errors: list[FieldError] = []
    if not QUEUE_NAME.fullmatch(queue):
        errors.append(FieldError(f"{prefix}queue", "invalid", f"a queue is 1-64 of a-z 0-9 . _ -, not {queue!r}"))
    for i, skill in enumerate(skills):
        if not SKILL_NAME.fullmatch(skill):
            errors.append(FieldError(f"{prefix}skills", "invalid", f"a skill is 1-64 of a-z 0-9 . _ -: {skill!r}", i))
    if priority not in PRIORITIES:
        errors.append(FieldError(f"{prefix}priority", "invalid", f"priority is one of {', '.join(PRIORITIES)}"))
    return errors


def due_at(calendar: BusinessCalendar, created_at: datetime, business_minutes: int) -> datetime:
    """When a task made at `created_at` is due: that many minutes of business time later (the cases' clock)."""
    return calendar.add(created_at, business_minutes * 60.0)


def is_overdue(due: datetime, status: str, now: datetime) -> bool:
    return status in ACTIVE and due < now
