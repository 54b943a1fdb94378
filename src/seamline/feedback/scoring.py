"""The figures of a set of answers, by survey kind. Pure: scores in, a figure out.

- **CSAT**: the share of answers in the top two points of the 1-5 scale (4 or 5), in percent.
- **NPS**: promoters (9-10) minus detractors (0-6), in percent of the answers: -100 to 100.
- **CES**: the mean of the 1-7 answers (7: very easy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

BUCKETS = ("day", "week")


@dataclass(frozen=True, slots=True)
class Figure:
    """The figure of one kind over some answers: how many, the score, and how many were low."""

    kind: str
    answers: int
    score: float | None  # None without answers

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "answers": self.answers, "score": self.score}


def figure(kind: str, scores: Sequence[int]) -> Figure:
    """CSAT %, NPS or CES mean of these scores (rounded to one decimal)."""
    if not scores:
        return Figure(kind, 0, None)
    n = len(scores)
    if kind == "csat":
        value = 100.0 * sum(1 for s in scores if s >= 4) / n
    elif kind == "nps":
        value = 100.0 * (sum(1 for s in scores if s >= 9) - sum(1 for s in scores if s <= 6)) / n
    else:
        value = sum(scores) / n
    return Figure(kind, n, round(value, 1))


def bucket_start(moment: datetime, bucket: str) -> date:
    """The day, or the Monday of the ISO week, a moment (UTC) falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday()) if bucket == "week" else day
