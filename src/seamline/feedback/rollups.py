"""The outer loop: answers rolled up by touchpoint, agent, journey step, communication type or survey, each group
beside the communication errors and cases of the same people, so a structural cause shows; and the CSAT, NPS and
CES trend per day or week (the reports dashboard calls `score_trend`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
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


def rollup(
    session: Session, *, by: str, since: datetime, until: datetime, people: Collection[int] | None = None
) -> list[RollupRow]:
    """The answers of [since, until) grouped by one dimension, most answers first (only those of `people`, profile
    ids of a customer segment, when given). The database groups: the scores' counts per group and kind, and the
    people of each group with their errors and cases."""
    if by not in DIMENSIONS:
        raise InvalidInput([FieldError("by", "invalid", f"one of {', '.join(DIMENSIONS)}")])
    _period(since, until)
    histograms: dict[str | None, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    unhappy: dict[str | None, int] = defaultdict(int)
    for row in repository.score_counts(session, by, since, until, people):
        histograms[row.key][row.kind][int(row.score)] = int(row.answers)
        if row.score <= UNHAPPY.get(row.kind, -1):
            unhappy[row.key] += int(row.answers)
    problems = {row.key: row for row in repository.people_problems(session, by, since, until, people)}
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


def score_trend(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    bucket: str = "day",
    people: Collection[int] | None = None,
) -> list[TrendPoint]:
    """CSAT %, NPS and CES mean per day or ISO week (Monday) of [since, until), oldest first (of `people` only,
    when given); a bucket without answers of a kind has no point for it."""
    if bucket not in BUCKETS:
        raise InvalidInput([FieldError("bucket", "invalid", f"one of {', '.join(BUCKETS)}")])
    _period(since, until)
    counts: dict[tuple[date, str], dict[int, int]] = defaultdict(dict)
    for row in repository.daily_counts(session, since, until, people):
        day = date.fromisoformat(str(row.day))
        histogram = counts[(bucket_start(day, bucket), row.kind)]
        histogram[int(row.score)] = histogram.get(int(row.score), 0) + int(row.answers)
    points = []
    for (start, kind), histogram in sorted(counts.items(), key=lambda kv: (kv[0][0], KINDS.index(kv[0][1]))):
        found = figure_of_counts(kind, histogram)
        points.append(TrendPoint(start, kind, found.answers, found.score))
    return points


def overall(
    session: Session, *, since: datetime, until: datetime, people: Collection[int] | None = None
) -> tuple[Figure, ...]:
    """One figure per kind over the whole period (of `people` only, when given)."""
    _period(since, until)
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for row in repository.score_counts(session, None, since, until, people):
        counts[row.kind][int(row.score)] = int(row.answers)
    return tuple(figure_of_counts(k, counts.get(k, {})) for k in KINDS)


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """One question of one survey over a period: its answers, its figure (CSAT %, NPS, CES or a custom scale's
    mean) and how its scores spread."""

    survey: str
    question: str
    kind: str
    answers: int
    score: float | None
    histogram: tuple[tuple[int, int], ...]  # (score, answers), lowest score first

    def as_dict(self) -> dict[str, Any]:
        return {
            "survey": self.survey, "question": self.question, "kind": self.kind, "answers": self.answers,
            "score": self.score, "histogram": {str(s): n for s, n in self.histogram},
        }  # fmt: skip


def by_question(
    session: Session, *, since: datetime, until: datetime, people: Collection[int] | None = None
) -> list[QuestionRow]:
    """Every rated question's figure over [since, until) (of `people` only, when given), by survey then in the
    order most answered first."""
    _period(since, until)
    histograms: dict[tuple[str, str, str], dict[int, int]] = defaultdict(dict)
    for row in repository.question_counts(session, since, until, people):
        histograms[(row.survey, row.question, row.kind)][int(row.score)] = int(row.answers)
    out = []
    for (survey, question, kind), histogram in histograms.items():
        found = figure_of_counts(kind, histogram)
        out.append(QuestionRow(survey, question, kind, found.answers, found.score, tuple(sorted(histogram.items()))))
    return sorted(out, key=lambda r: (r.survey, -r.answers, r.question))
