"""Step rules of a journey: which steps apply, which is current, when the journey is done, what a step lacks,
and the SLA clock of a step that waits on a person at the company. Pure: definitions and values in, answers out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from seamline.cases.sla import BusinessCalendar, Clock, Target, clock
from seamline.journeys.definitions import JourneyDef, StepDef

OPEN, STALLED, ABANDONED, COMPLETED, JOINED = "open", "stalled", "abandoned", "completed", "joined"
STATUSES = (OPEN, STALLED, ABANDONED, COMPLETED, JOINED)
# What a person can still continue; a stalled journey is open for everyone who comes back to it.
RESUMABLE = (OPEN, STALLED)


def applies(step: StepDef, values: Mapping[str, Any]) -> bool:
    """Whether a conditional step applies, given the values entered so far (every unconditional step does)."""
    return step.when is None or values.get(step.when.field) == step.when.equals


def current_step(definition: JourneyDef, completed: Collection[str], values: Mapping[str, Any]) -> str | None:
    """The first step that applies, is required and is not done; None when nothing required is left."""
    for step in definition.steps:
        if step.key in completed or step.optional or not applies(step, values):
            continue
        return step.key
    return None


def is_done(definition: JourneyDef, completed: Collection[str], values: Mapping[str, Any]) -> bool:
    """Whether every required step that applies is complete."""
    return current_step(definition, completed, values) is None


def missing_fields(step: StepDef, values: Mapping[str, Any]) -> list[str]:
    """The required fields of a step that have no value yet."""
    return [f.key for f in step.fields if f.required and values.get(f.key) in (None, "")]


def unknown_fields(step: StepDef, names: Collection[str]) -> list[str]:
    """Names given for a step that it does not collect."""
    return [name for name in names if step.field_named(name) is None]


def sla_target(step: StepDef, calendar: BusinessCalendar) -> Target | None:
    """The step's SLA as a business-time target on the calendar; a business day is one opening window."""
    if step.sla_business_hours is not None:
        return Target(round(step.sla_business_hours * 60), calendar)
    if step.sla_business_days is not None:
        day = _working_day_minutes(calendar)
        return Target(round(step.sla_business_days * day), calendar)
    return None


def _working_day_minutes(calendar: BusinessCalendar) -> float:
    if calendar.always or calendar.closes is None:
        return 24 * 60.0
    opens, closes = calendar.opens, calendar.closes
    return (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)


def step_clock(
    step: StepDef, calendar: BusinessCalendar, *, since: datetime, done_at: datetime | None, now: datetime
) -> Clock | None:
    """The SLA clock of a step waiting on a person since `since` (when it became current); None without an SLA."""
    target = sla_target(step, calendar)
    if target is None:
        return None
    return clock(target, [(since, done_at)], now, met_at=done_at, is_paused=False)


def quiet_status(definition: JourneyDef, status: str, last_activity: datetime, now: datetime) -> str:
    """What a journey's status becomes after no activity since `last_activity`: stalled, then abandoned."""
    if status not in RESUMABLE:
        return status
    quiet: timedelta = now - last_activity
    if quiet >= definition.abandon_after:
        return ABANDONED
    if quiet >= definition.stall_after:
        return STALLED
    return status


def same_value(given: Any, held: Any) -> bool:
    """Whether a value a customer gave is the one already held (case, spaces and number form aside)."""

    def norm(value: Any) -> str:
        if isinstance(value, bool) or value is None:
            return str(value)
        if isinstance(value, int | float):
            return format(float(value), "g")
        return " ".join(str(value).split()).casefold()

    return norm(given) == norm(held)
