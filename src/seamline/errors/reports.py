"""Reports of communication errors: how many by harm, template, source system and channel, and how fast they were
acknowledged and resolved against the policy's clocks, in total and week by week (`over_time`, the series the
console's charts and the reports area draw). Aggregates only, never a person."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
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


@dataclass(frozen=True, slots=True)
class Week:
    """One week (from Monday, UTC) of errors reported: how many per severity, and how their clocks went against
    the policy's due times (shares of those whose clock is decided: met, or missed; None when none is yet)."""

    starts: date
    by_severity: dict[str, int]
    acknowledged_in_time: float | None
    resolved_in_time: float | None
    median_acknowledge_hours: float | None
    median_resolve_hours: float | None


@dataclass(frozen=True, slots=True)
class OverTime:
    """Errors week by week, oldest first: the series the console's charts (and the reports area) draw."""

    weeks: tuple[Week, ...]

    def series(self) -> dict[str, Any]:
        """Plain JSON-ready series: x (week starts) and one list per series, aligned with x."""
        return {
            "weeks": [w.starts.isoformat() for w in self.weeks],
            "by_severity": {s: [w.by_severity[s] for w in self.weeks] for s in reversed(SEVERITIES)},
            "acknowledged_in_time": [w.acknowledged_in_time for w in self.weeks],
            "resolved_in_time": [w.resolved_in_time for w in self.weeks],
            "median_acknowledge_hours": [w.median_acknowledge_hours for w in self.weeks],
            "median_resolve_hours": [w.median_resolve_hours for w in self.weeks],
        }


def _monday(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _share(met: int, decided: int) -> float | None:
    return round(met / decided, 4) if decided else None


def _hours(values: list[float]) -> float | None:
    return round(statistics.median(values) / 3600, 2) if values else None


def over_time(session: Session, *, weeks: int = 12, now: datetime | None = None) -> OverTime:
    """The last `weeks` weeks (this one included) of errors by the week they were reported: counts by severity,
    and the shares acknowledged and resolved within the policy's clocks (an open error counts once its clock is
    missed), with median hours to each. Aggregates only, never a person."""
    if not 1 <= weeks <= 260:
        raise ValueError(f"weeks must be 1-260, not {weeks}")  # edges offer only a few choices
    now = now or utcnow()
    first = _monday(now) - timedelta(weeks=weeks - 1)
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    buckets: dict[date, list[tuple[str, datetime, datetime | None, datetime, datetime | None, datetime]]] = {
        s: [] for s in starts
    }
    for row in repository.clock_rows(session, datetime.combine(first, time.min, UTC)):
        bucket = buckets.get(_monday(row[1]))
        if bucket is not None:
            bucket.append(row)
    out = []
    for start in starts:
        rows = buckets[start]
        counts = dict.fromkeys(SEVERITIES, 0)
        for row in rows:
            counts[row[0]] = counts.get(row[0], 0) + 1
        ack_decided = [r for r in rows if r[2] is not None or r[3] <= now]
        fix_decided = [r for r in rows if r[4] is not None or r[5] <= now]
        out.append(
            Week(
                start,
                counts,
                _share(sum(1 for r in ack_decided if r[2] is not None and r[2] <= r[3]), len(ack_decided)),
                _share(sum(1 for r in fix_decided if r[4] is not None and r[4] <= r[5]), len(fix_decided)),
                _hours([(r[2] - r[1]).total_seconds() for r in rows if r[2] is not None]),
                _hours([(r[4] - r[1]).total_seconds() for r in rows if r[4] is not None]),
            )
        )
    return OverTime(tuple(out))
