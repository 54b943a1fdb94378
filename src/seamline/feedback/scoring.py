"""The figures of a set of answers, by survey kind. Pure: scores in, a figure out.

- **CSAT**: the share of answers in the top two points of the 1-5 scale (4 or 5), in percent.
- **NPS**: promoters (9-10) minus detractors (0-6), in percent of the answers: -100 to 100.
- **CES**: the mean of the 1-7 answers (7: very easy).
- a **custom** scale (a question of a survey of several): the mean of its answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

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
    counts: dict[int, int] = {}
    for score in scores:
        counts[score] = counts.get(score, 0) + 1
    return figure_of_counts(kind, counts)


def figure_of_counts(kind: str, counts: Mapping[int, int]) -> Figure:
    """The figure of a histogram: how many answers gave each score."""
    n = sum(counts.values())
    if not n:
        return Figure(kind, 0, None)
    if kind == "csat":
        value = 100.0 * sum(c for s, c in counts.items() if s >= 4) / n
    elif kind == "nps":
        value = 100.0 * (sum(c for s, c in counts.items() if s >= 9) - sum(c for s, c in counts.items() if s <= 6)) / n
    else:
        value = sum(s * c for s, c in counts.items()) / n
    return Figure(kind, n, round(value, 1))


def bucket_start(day: date, bucket: str) -> date:
    """The day itself, or the Monday of the ISO week it falls in."""
    return day - timedelta(days=day.weekday()) if bucket == "week" else day
