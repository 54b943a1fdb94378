"""How long each journey step takes and where people stop: per (journey, step), the time from the step becoming
current to its completion (p50/p95 over the steps completed in a period) beside how many instances wait at it now,
and how many went quiet there (stalled or abandoned). The communications assessment ranks them among its
bottlenecks."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.journeys import progress, repository


@dataclass(frozen=True, slots=True)
class StepTime:
    journey: str
    journey_name: str
    step: str
    step_name: str
    completed: int  # completions in the period
    p50_seconds: float | None  # from the step becoming current to its completion
    p95_seconds: float | None
    waiting: int  # open instances at this step now
    stalled: int  # instances stalled at this step now
    abandoned: int  # instances abandoned at this step

    @property
    def quiet(self) -> int:
        return self.stalled + self.abandoned

    @property
    def reached(self) -> int:
        return self.completed + self.waiting + self.quiet

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def _rank(ordered: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values."""
    if not ordered:
        return None
    return round(ordered[max(0, math.ceil(share * len(ordered)) - 1)], 1)


def step_times(session: Session, since: datetime | None = None, until: datetime | None = None) -> list[StepTime]:
    """Every step of every installed definition that someone completed in the period or is at now, in the
    definition's order; the counts of waiting and quiet instances are as of now, whatever the period."""
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    for journey, step, at, current_since in repository.step_completions(session, since, until):
        durations[(journey, step)].append(max(0.0, (at - current_since).total_seconds()))
    now: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in repository.board(session):
        if row.current_step is not None:
            now[(row.journey, row.current_step)][row.status] = row.instances
    out = []
    for definition in repository.definitions(session):
        for declared in definition.body["steps"]:
            key = (definition.key, str(declared["key"]))
            taken, counts = sorted(durations.get(key, ())), now.get(key, {})
            if not taken and not counts:
                continue
            out.append(
                StepTime(
                    definition.key, definition.name, key[1], str(declared.get("name") or key[1]), len(taken),
                    _rank(taken, 0.5), _rank(taken, 0.95), counts.get(progress.OPEN, 0),
                    counts.get(progress.STALLED, 0), counts.get(progress.ABANDONED, 0),
                )
            )  # fmt: skip
    return out
