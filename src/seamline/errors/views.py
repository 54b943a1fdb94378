"""What callers see of errors and problems, and the words for where an error stands. Pure but for `of` (a row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row

from seamline.core.clock import isoformat_z
from seamline.core.views import view_of
from seamline.errors.models import CommError, CommErrorEvent, Problem
from seamline.errors.policy import Policy

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
FIXED = "fixed"  # fixed at first contact by the agent, through a correction
STATUSES = (OPEN, ACKNOWLEDGED, RESOLVED, FIXED)
INTAKES = ("console", "api", "import", "external")


def _iso(moment: datetime | None) -> str | None:
    return isoformat_z(moment) if moment is not None else None


@dataclass(frozen=True, slots=True)
class ErrorView:
    """One communication error report as every surface shows it."""

    id: int
    profile_id: int | None
    case_id: int | None
    intake: str
    reporter: str
    external_ref: str | None
    field: str
    shown: str | None
    expected: str | None
    description: str | None
    harm: str
    customers_affected: int
    is_vulnerable: bool
    severity: str
    severity_reason: str
    owner_team: str
    template: str | None
    template_version: str | None
    batch: str | None
    source_system: str | None
    channel: str | None
    status: str
    resolution: str | None
    correction_event_id: int | None
    problem_id: int | None
    escalation_level: int
    reported_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    acknowledge_missed: bool
    resolve_missed: bool
    regulatory_clock: str | None
    regulatory_due_at: datetime | None
    regulatory_warn_at: datetime | None
    regulatory_done_at: datetime | None
    resent_communication_id: str | None
    communication_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: CommError | Row[Any], communication_ids: Sequence[str] = ()) -> ErrorView:
        return view_of(cls, row, communication_ids=tuple(communication_ids))

    @property
    def is_open(self) -> bool:
        return self.status in (OPEN, ACKNOWLEDGED)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (times in ISO 8601 UTC)."""
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = isoformat_z(value)
        out["communication_ids"] = list(self.communication_ids)
        return out


@dataclass(frozen=True, slots=True)
class ProblemView:
    """A group of errors with one root cause."""

    id: int
    signature: str
    grouped_by: str
    title: str
    template: str | None
    template_version: str | None
    batch: str | None
    source_system: str | None
    field: str | None
    status: str
    is_reopened: bool
    root_cause: str | None
    corrective_action: str | None
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    error_count: int = 0

    @classmethod
    def of(cls, row: Problem, error_count: int = 0) -> ProblemView:
        return view_of(cls, row, error_count=error_count)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(opened_at=_iso(self.opened_at), closed_at=_iso(self.closed_at))
        return out


@dataclass(frozen=True, slots=True)
class EventView:
    """One step of a timeline."""

    kind: str
    actor: str
    detail: dict[str, Any]
    occurred_at: datetime
    error_id: int | None
    problem_id: int | None

    @classmethod
    def of(cls, row: CommErrorEvent) -> EventView:
        return view_of(cls, row, detail=dict(row.detail or {}))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "occurred_at": isoformat_z(self.occurred_at)}


@dataclass(frozen=True, slots=True)
class ClockLine:
    """One clock of an error in words: its name, when it is due, and how it stands."""

    name: str
    due_at: datetime | None
    state: str  # running, warning, overdue, met, missed
    text: str


def _span(seconds: float) -> str:
    minutes = int(abs(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _line(name: str, due: datetime, done: datetime | None, now: datetime, warn_at: datetime | None = None) -> ClockLine:
    if done is not None:
        late = done > due
        return ClockLine(
            name,
            due,
            "missed" if late else "met",
            f"met{', ' + _span((done - due).total_seconds()) + ' late' if late else ''}",
        )
    left = (due - now).total_seconds()
    if left < 0:
        return ClockLine(name, due, "overdue", f"overdue by {_span(left)}")
    if warn_at is not None and now >= warn_at:
        return ClockLine(name, due, "warning", f"{_span(left)} left: the deadline is close")
    return ClockLine(name, due, "running", f"{_span(left)} left")


def clock_lines(policy: Policy, error: ErrorView, now: datetime) -> list[ClockLine]:
    """Acknowledgement, resolution and any regulatory clock of an error, in words."""
    lines = [
        _line("Acknowledge", error.acknowledge_due_at, error.acknowledged_at, now),
        _line("Resolve", error.resolve_due_at, error.resolved_at, now),
    ]
    if error.regulatory_clock is not None and error.regulatory_due_at is not None:
        clock = policy.regulatory_clocks.get(error.regulatory_clock)
        name = clock.name if clock is not None else error.regulatory_clock
        lines.append(_line(name, error.regulatory_due_at, error.regulatory_done_at, now, error.regulatory_warn_at))
    return lines


def next_steps(policy: Policy, error: ErrorView) -> list[str]:
    """What happens next, in words an agent can say to the customer."""
    if error.status == FIXED:
        return ["Fixed on this contact: the record is corrected, and the report is closed."]
    if error.resent_communication_id is not None:
        return [
            f"Corrected and re-sent by {error.resolved_by}: the customer gets {error.resent_communication_id} with "
            "the right value; the report is closed."
        ]
    if error.status == RESOLVED:
        return [f"Resolved by {error.resolved_by}: {error.resolution or 'no note'}."]
    rule = policy.severities.get(error.severity)
    steps = []
    if rule is not None:
        levels = rule.escalation
        level = levels[min(error.escalation_level, len(levels) - 1)]
        steps.append(
            f"Escalated as {error.severity} to {rule.owner} ({level.name}): they acknowledge by "
            f"{isoformat_z(error.acknowledge_due_at)} and resolve by {isoformat_z(error.resolve_due_at)}."
        )
        if error.escalation_level + 1 < len(levels):
            steps.append(f"If a clock is missed, {levels[error.escalation_level + 1].name} is told.")
        if rule.tell_customer:
            steps.append(f"Tell the customer: {rule.tell_customer}")
    if error.regulatory_clock is not None and error.regulatory_due_at is not None and error.regulatory_done_at is None:
        clock = policy.regulatory_clocks.get(error.regulatory_clock)
        if clock is not None:
            steps.append(f"Regulatory deadline: {clock.name}, by {isoformat_z(error.regulatory_due_at)}.")
    if error.problem_id is not None:
        steps.append(f"It is part of problem #{error.problem_id}: errors with the same cause are worked together.")
    return steps
