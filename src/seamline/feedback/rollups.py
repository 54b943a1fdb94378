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
from seamline.feedback.scoring import BUCKETS, Figure, bucket_start, figure
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
    """The answers of [since, until) grouped by one dimension, most answers first."""
    if by not in DIMENSIONS:
        raise InvalidInput([FieldError("by", "invalid", f"one of {', '.join(DIMENSIONS)}")])
    _period(since, until)
    rows = repository.answers_between(session, since, until)
    groups: dict[str | None, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, by)].append(row)
    people = sorted({int(r.profile_id) for r in rows})
    errors = repository.error_counts(session, people, since, until) if people else {}
    cases = repository.case_counts(session, people, since, until) if people else {}
    out = []
    for key, members in groups.items():
        scores: dict[str, list[int]] = defaultdict(list)
        for r in members:
            scores[r.kind].append(int(r.score))
        who = {int(r.profile_id) for r in members}
        out.append(RollupRow(
            key=key, answers=len(members), unhappy=sum(1 for r in members if r.score <= UNHAPPY.get(r.kind, -1)),
            figures=tuple(figure(k, scores[k]) for k in KINDS if scores.get(k)), people=len(who),
            people_with_errors=sum(1 for p in who if errors.get(p)),
            communication_errors=sum(errors.get(p, 0) for p in who),
            people_with_cases=sum(1 for p in who if cases.get(p)), cases=sum(cases.get(p, 0) for p in who),
        ))  # fmt: skip
    return sorted(out, key=lambda r: (-r.answers, r.key or "\uffff"))


def score_trend(session: Session, *, since: datetime, until: datetime, bucket: str = "day") -> list[TrendPoint]:
    """CSAT %, NPS and CES mean per day or ISO week (Monday) of [since, until), oldest first; a bucket without
    answers of a kind has no point for it."""
    if bucket not in BUCKETS:
        raise InvalidInput([FieldError("bucket", "invalid", f"one of {', '.join(BUCKETS)}")])
    _period(since, until)
    scores: dict[tuple[date, str], list[int]] = defaultdict(list)
    for row in repository.answers_between(session, since, until):
        scores[(bucket_start(row.answered_at, bucket), row.kind)].append(int(row.score))
    points = []
    for (start, kind), values in sorted(scores.items(), key=lambda kv: (kv[0][0], KINDS.index(kv[0][1]))):
        found = figure(kind, values)
        points.append(TrendPoint(start, kind, found.answers, found.score))
    return points


def overall(session: Session, *, since: datetime, until: datetime) -> tuple[Figure, ...]:
    """One figure per kind over the whole period."""
    _period(since, until)
    scores: dict[str, list[int]] = defaultdict(list)
    for row in repository.answers_between(session, since, until):
        scores[row.kind].append(int(row.score))
    return tuple(figure(k, scores.get(k, [])) for k in KINDS)
