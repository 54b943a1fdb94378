"""The outer loop: answers rolled up by touchpoint, agent, journey step, communication type or survey, each group
beside the communication errors and cases of the same people, so a structural cause shows; and the CSAT, NPS and
CES trend per day or week (the reports dashboard calls `score_trend`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.errors import FieldError, InvalidInput
from seamline.feedback import repository
from seamline.feedback.scoring import BUCKETS, Figure, bucket_start, figure_of_counts
from seamline.feedback.surveys import KINDS

DIMENSIONS = ("touchpoint", "agent", "journey_step", "communication_type", "survey")
# An unhappy answer, whatever the survey's own task threshold: CSAT 1-2, NPS detractors 0-6, CES 1-3.
UNHAPPY = {"csat": 2, "nps": 6, "ces": 3}


@dataclass(frozen=True, slots=True)
class RollupRow:
    """One group's answers: a figure per kind, the unhappy answers, and the problems of the same people."""

    key: str | None  # None: answers without that dimension (no agent, no journey)
    answers: int
    unhappy: int
    figures: tuple[Figure, ...]  # one per kind answered, in KINDS order
    people: int
    people_with_errors: int
    communication_errors: int
    people_with_cases: int
    cases: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "answers": self.answers, "unhappy": self.unhappy,
            "figures": [f.as_dict() for f in self.figures], "people": self.people,
            "people_with_errors": self.people_with_errors, "communication_errors": self.communication_errors,
            "people_with_cases": self.people_with_cases, "cases": self.cases,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """The figure of one kind in one day or week."""

    start: date
    kind: str
    answers: int
    score: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "kind": self.kind, "answers": self.answers, "score": self.score}


def _period(since: datetime, until: datetime) -> None:
    if until <= since:
        raise InvalidInput([FieldError("until", "invalid", "until must be after since")])


def rollup(session: Session, *, by: str, since: datetime, until: datetime) -> list[RollupRow]:
    """The answers of [since, until) grouped by one dimension, most answers first. The database groups: the scores'
    counts per group and kind, and the people of each group with their errors and cases."""
    if by not in DIMENSIONS:
        raise InvalidInput([FieldError("by", "invalid", f"one of {', '.join(DIMENSIONS)}")])
    _period(since, until)
    histograms: dict[str | None, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    unhappy: dict[str | None, int] = defaultdict(int)
    for row in repository.score_counts(session, by, since, until):
        histograms[row.key][row.kind][int(row.score)] = int(row.answers)
        if row.score <= UNHAPPY.get(row.kind, -1):
            unhappy[row.key] += int(row.answers)
    problems = {row.key: row for row in repository.people_problems(session, by, since, until)}
    out = []
    for key, scores in histograms.items():
        found = problems.get(key)
        out.append(RollupRow(
            key=key, answers=sum(sum(v.values()) for v in scores.values()), unhappy=unhappy[key],
            figures=tuple(figure_of_counts(k, scores[k]) for k in KINDS if scores.get(k)),
            people=int(found.people) if found else 0,
            people_with_errors=int(found.people_with_errors) if found else 0,
            communication_errors=int(found.errors) if found else 0,
            people_with_cases=int(found.people_with_cases) if found else 0,
            cases=int(found.cases) if found else 0,
        ))  # fmt: skip
    return sorted(out, key=lambda r: (-r.answers, r.key or "\uffff"))


def score_trend(session: Session, *, since: datetime, until: datetime, bucket: str = "day") -> list[TrendPoint]:
    """CSAT %, NPS and CES mean per day or ISO week (Monday) of [since, until), oldest first; a bucket without
    answers of a kind has no point for it."""
    if bucket not in BUCKETS:
        raise InvalidInput([FieldError("bucket", "invalid", f"one of {', '.join(BUCKETS)}")])
    _period(since, until)
    counts: dict[tuple[date, str], dict[int, int]] = defaultdict(dict)
    for row in repository.daily_counts(session, since, until):
        day = date.fromisoformat(str(row.day))
        histogram = counts[(bucket_start(day, bucket), row.kind)]
        histogram[int(row.score)] = histogram.get(int(row.score), 0) + int(row.answers)
    points = []
    for (start, kind), histogram in sorted(counts.items(), key=lambda kv: (kv[0][0], KINDS.index(kv[0][1]))):
        found = figure_of_counts(kind, histogram)
        points.append(TrendPoint(start, kind, found.answers, found.score))
    return points


def overall(session: Session, *, since: datetime, until: datetime) -> tuple[Figure, ...]:
    """One figure per kind over the whole period."""
    _period(since, until)
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for row in repository.score_counts(session, None, since, until):
        counts[row.kind][int(row.score)] = int(row.answers)
    return tuple(figure_of_counts(k, counts.get(k, {})) for k in KINDS)
