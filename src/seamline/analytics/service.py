"""Journey analytics over events, journey steps, communications and cases: funnels, the people behind their
numbers, detours, cross-channel completion and repeated identification. One `Analytics` per process (the API,
the console and the CLI share it); each report reads the columnar copy (replica.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

import duckdb
import pyarrow as pa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.analytics import crosschannel, funnels, identification, paths, repository
from seamline.analytics.funnels import StepFigures, Window
from seamline.analytics.replica import Replica
from seamline.analytics.steps import Step, check_breakdown, parse_steps
from seamline.audit.service import record
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.principal import Principal

HOUR = 3600.0
MAX_WINDOW_HOURS = 24 * 366
MAX_PEOPLE = 1000
OUTCOMES = ("reached", "dropped")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Period:
    """Days (UTC, both included) that say who enters a report; either end may be open."""

    since: date | None = None
    until: date | None = None

    def window(self, hours: float) -> Window:
        """The period as epoch seconds, with a conversion window of `hours`."""
        start = datetime.combine(self.since, time(), UTC).timestamp() if self.since else None
        end = datetime.combine(self.until + timedelta(days=1), time(), UTC).timestamp() if self.until else None
        if start is not None and end is not None and end <= start:
            raise InvalidInput([FieldError("until", "invalid", "until is before since")])
        return Window(start, end, hours * HOUR)


@dataclass(frozen=True, slots=True)
class FunnelQuery:
    """A funnel asked for: its steps (as text), period, conversion window and breakdown."""

    steps: tuple[str, ...]
    period: Period = Period()
    window_hours: int = 24 * 30
    breakdown: str | None = None
    segment: str | None = None  # a customer segment's key (its members, below, are who may enter)
    people: frozenset[int] | None = None  # the segment's profile ids, read by the caller; None: everyone


@dataclass(frozen=True, slots=True)
class Funnel:
    steps: tuple[str, ...]
    window_hours: int
    breakdown: str | None
    figures: tuple[StepFigures, ...]

    @property
    def overall(self) -> list[StepFigures]:
        """Every step's figures for everyone."""
        return [f for f in self.figures if f.group is None]


@dataclass(frozen=True, slots=True)
class People:
    """The people behind one number of a funnel: how many, and one page of their profile ids."""

    step: int
    outcome: str
    group: str | None
    total: int
    profile_ids: tuple[int, ...]


def _check(query: FunnelQuery, *, least: int = 2) -> tuple[list[Step], Window]:
    steps = parse_steps(query.steps, least=least)
    check_breakdown(query.breakdown)
    if not 1 <= query.window_hours <= MAX_WINDOW_HOURS:
        raise InvalidInput([FieldError("window_hours", "invalid", f"give 1 to {MAX_WINDOW_HOURS} hours")])
    return steps, query.period.window(query.window_hours)


@dataclass
class Analytics:
    """The journey analytics of one store, over a columnar copy kept in this process."""

    engine: Engine
    refresh_seconds: float = 5.0
    rebuild_seconds: float = 3600.0
    replica: Replica = field(init=False)

    def __post_init__(self) -> None:
        self.replica = Replica(self.refresh_seconds, self.rebuild_seconds)

    def close(self) -> None:
        """Free the columnar copy when the app stops."""
        self.replica.close()

    def _open(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.engine, write=False)

    def _filters(self, steps: Sequence[Step], people: frozenset[int] | None) -> dict[int, pa.Table]:
        """Event ids that carry each filtered step's property value, read from the stored messages; as filter 0,
        the profile ids who may enter (a customer segment)."""
        out: dict[int, pa.Table] = {}
        if people is not None:
            out[0] = pa.table({"profile_id": pa.array(sorted(people), pa.int64())})
        wanted = [(k, s) for k, s in enumerate(steps, start=1) if s.key is not None]
        if wanted:
            with self._open() as session:
                for k, s in wanted:
                    ids = repository.events_with_property(session, s.name, str(s.key), str(s.value))
                    out[k] = pa.table({"id": pa.array(ids, pa.int64())})
        return out

    def _run(
        self,
        steps: Sequence[Step],
        compute: Callable[[duckdb.DuckDBPyConnection, set[int]], T],
        people: frozenset[int] | None = None,
    ) -> T:
        filters = self._filters(steps, people)
        with self.replica.reading(self._open) as con:
            for k, table in filters.items():
                con.register(f"filter_{k}", table)
            try:
                return compute(con, set(filters))
            finally:
                for k in filters:
                    con.unregister(f"filter_{k}")

    def funnel(self, query: FunnelQuery) -> Funnel:
        """Conversion, drop-off and time between steps, for everyone and per breakdown group."""
        steps, window = _check(query)
        found = self._run(steps, lambda con, f: funnels.figures(con, steps, window, query.breakdown, f), query.people)
        return Funnel(tuple(s.label for s in steps), query.window_hours, query.breakdown, tuple(found))

    def people(
        self, query: FunnelQuery, *, step: int, outcome: str, group: str | None = None, limit: int = 100,
        offset: int = 0,
    ) -> People:  # fmt: skip
        """Who reached step `step` (or dropped after it), in the breakdown's `group` when given."""
        steps, window = _check(query)
        problems = []
        if not 1 <= step <= len(steps):
            problems.append(FieldError("step", "invalid", f"give a step from 1 to {len(steps)}"))
        if outcome not in OUTCOMES:
            problems.append(FieldError("outcome", "invalid", f"give one of {', '.join(OUTCOMES)}"))
        if not 1 <= limit <= MAX_PEOPLE or offset < 0:
            problems.append(FieldError("limit", "invalid", f"give a limit of 1 to {MAX_PEOPLE} and an offset ≥ 0"))
        if problems:
            raise InvalidInput(problems)

        def compute(con: duckdb.DuckDBPyConnection, filtered: set[int]) -> tuple[int, list[int]]:
            return funnels.people(
                con, steps, window, filtered, step=step, outcome=outcome, breakdown=query.breakdown, group=group,
                limit=limit, offset=offset,
            )  # fmt: skip

        total, ids = self._run(steps, compute, query.people)
        return People(step, outcome, group, total, tuple(ids))

    def paths(self, query: FunnelQuery, *, at: int, depth: int = 3, horizon_hours: int | None = None,
              top: int = 20) -> paths.PathView:  # fmt: skip
        """What people did next after stopping at step `at` (all who reached it, at the last step)."""
        steps, window = _check(query, least=1)
        problems = []
        if not 1 <= at <= len(steps):
            problems.append(FieldError("step", "invalid", f"give a step from 1 to {len(steps)}"))
        if not 1 <= depth <= 10:
            problems.append(FieldError("depth", "invalid", "give 1 to 10 touches"))
        if not 1 <= top <= 100:
            problems.append(FieldError("top", "invalid", "give 1 to 100 paths"))
        hours = horizon_hours if horizon_hours is not None else query.window_hours
        if not 1 <= hours <= MAX_WINDOW_HOURS:
            problems.append(FieldError("horizon_hours", "invalid", f"give 1 to {MAX_WINDOW_HOURS} hours"))
        if problems:
            raise InvalidInput(problems)
        return self._run(
            steps[: at + 1],
            lambda con, f: paths.detours(
                con, steps, window, f, at=at, depth=depth, horizon_seconds=hours * HOUR, top=top
            ),
            query.people,
        )

    def repeated_identification(self, period: Period = Period()) -> identification.RepeatedIdentification:
        """How often people identified again within a day and within a journey, and across how many channels."""
        window = period.window(1)
        with self.replica.reading(self._open) as con:
            return identification.count(con, window)

    def cross_channel(self, period: Period = Period()) -> crosschannel.CrossChannel:
        """Journeys completed on another channel or device than they began on (or at the branch)."""
        window = period.window(1)
        with self.replica.reading(self._open) as con:
            return crosschannel.count(con, window)


def audit_people(session: Session, principal: Principal, query: FunnelQuery, people: People) -> None:
    """Record that `principal` read who is behind a funnel's number: one read entry per person listed."""
    detail = {
        "report": "funnel",
        "steps": list(query.steps)[:10],
        "step": people.step,
        "outcome": people.outcome,
        "group": people.group,
    }
    for profile_id in people.profile_ids:
        record(session, principal, "read", "profile", profile_id, detail)
