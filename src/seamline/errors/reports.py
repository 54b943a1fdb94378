"""Reports of communication errors: how many by harm, template, source system and channel, and how fast they were
acknowledged and resolved against the policy's clocks. Aggregates only, never a person."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from seamline.errors import repository
from seamline.errors.policy import SEVERITIES

DIMENSIONS = ("harm", "severity", "template", "source_system", "channel", "field")


@dataclass(frozen=True, slots=True)
class ClockReport:
    """For one severity: how many, median minutes to acknowledge and resolve, and how many were within policy."""

    severity: str
    errors: int
    acknowledged: int
    acknowledged_in_time: int
    median_acknowledge_minutes: float | None
    resolved: int
    resolved_in_time: int
    median_resolve_minutes: float | None


def counts(session: Session, dimension: str, since: datetime) -> list[tuple[str | None, int]]:
    """Errors reported since `since`, counted by one dimension, most first."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension {dimension!r} is not one of {DIMENSIONS}")  # edges offer only these
    return repository.counts_by(session, dimension, since)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def clock_report(session: Session, since: datetime) -> list[ClockReport]:
    """Time to acknowledge and resolve, per severity, against the due times each error was given."""
    rows = repository.clock_rows(session, since)
    out = []
    for severity in reversed(SEVERITIES):
        mine = [r for r in rows if r[0] == severity]
        acks = [(r[2] - r[1]).total_seconds() / 60 for r in mine if r[2] is not None]
        fixes = [(r[4] - r[1]).total_seconds() / 60 for r in mine if r[4] is not None]
        out.append(
            ClockReport(
                severity,
                len(mine),
                len(acks),
                sum(1 for r in mine if r[2] is not None and r[2] <= r[3]),
                _median(acks),
                len(fixes),
                sum(1 for r in mine if r[4] is not None and r[4] <= r[5]),
                _median(fixes),
            )
        )
    return out
