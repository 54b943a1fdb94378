"""SLA clocks in business time. Pure: a calendar, targets and a case's status timeline in; due times out.

Business time is measured in real seconds inside opening windows. Each window is built in the calendar's local
time (zoneinfo) and turned into UTC before any arithmetic, so daylight-saving days count the hours that really
passed (a 00:00-24:00 day in spring has 23 of them), and a 09:00-17:00 day is always 8 hours.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from seamline.cases.lifecycle import CLOCK_RUNS
from seamline.core.clock import isoformat_z

_MAX_DAYS = 3 * 366  # a target further than this many calendar days away is a configuration mistake
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When the clock runs: working weekdays (0 = Monday) between `opens` and `closes` local time, minus holidays.

    `closes` of None means midnight at the end of the day. `always` makes every second count (24x7).
    """

    zone: ZoneInfo
    working_days: frozenset[int]
    opens: time
    closes: time | None
    holidays: frozenset[date] = frozenset()
    always: bool = False

    def __post_init__(self) -> None:
        if not self.always and not self.working_days:
            raise ValueError("a business calendar needs at least one working day")
        if self.closes is not None and self.closes <= self.opens:
            raise ValueError("closing time must be after opening time")

    def around_the_clock(self) -> BusinessCalendar:
        """The same calendar, counting every second (for priorities with 24x7 targets)."""
        return BusinessCalendar(self.zone, self.working_days, self.opens, self.closes, self.holidays, always=True)

    def is_working_day(self, day: date) -> bool:
        """Whether the clock runs on this local date at all."""
        return day.weekday() in self.working_days and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The opening window of a local date, in UTC; None on a day off."""
        if not self.is_working_day(day):
            return None
        start = datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(UTC)
        if self.closes is None:
            end = datetime.combine(day + _DAY, time(0), tzinfo=self.zone).astimezone(UTC)
        else:
            end = datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(UTC)
        return start, end

    def _windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self.zone).date() - _DAY  # a window of the day before may still be open (UTC shift)
        for _ in range(_MAX_DAYS):
            found = self.window(day)
            if found is not None and found[1] > moment:
                yield max(found[0], moment), found[1]
            day += _DAY
        raise ValueError(f"no business time within {_MAX_DAYS} days of {moment.isoformat()}")

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds from `start` to `end` (0 when end is not after start)."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return 0.0
        if self.always:
            return (end - start).total_seconds()
        total = 0.0
        day = start.astimezone(self.zone).date() - _DAY
        last = end.astimezone(self.zone).date()
        while day <= last:
            found = self.window(day)
            if found is not None:
                lo, hi = max(found[0], start), min(found[1], end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += _DAY
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment `seconds` of business time after `start` (start itself, moved into a window, for 0)."""
        start = start.astimezone(UTC)
        if self.always:
            return start + timedelta(seconds=seconds)
        left = timedelta(seconds=max(seconds, 0.0))
        for lo, hi in self._windows_from(start):
            if hi - lo >= left:
                return lo + left
            left -= hi - lo
        raise AssertionError("unreachable: _windows_from raises when it runs out")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Target:
    """How long a clock may run, in business minutes, on which calendar."""

    minutes: int
    calendar: BusinessCalendar


@dataclass(frozen=True, slots=True)
class Clock:
    """One SLA clock of one case at one moment."""

    target_minutes: int
    due_at: datetime | None  # None while paused before reaching the target (the due time is not known yet)
    elapsed_seconds: float
    remaining_seconds: float  # negative once overdue
    state: str  # running | paused | met | stopped
    is_breached: bool
    stopped_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (times in ISO 8601 UTC)."""
        return {
            "target_minutes": self.target_minutes,
            "due_at": isoformat_z(self.due_at) if self.due_at else None,
            "elapsed_minutes": round(self.elapsed_seconds / 60, 1),
            "remaining_minutes": round(self.remaining_seconds / 60, 1),
            "state": self.state,
            "is_breached": self.is_breached,
            "stopped_at": isoformat_z(self.stopped_at) if self.stopped_at else None,
        }


def running_periods(timeline: Sequence[tuple[datetime, str]]) -> list[tuple[datetime, datetime | None]]:
    """The periods a case's clocks ran, from its (time, status entered) history; the last may be open-ended."""
    periods: list[tuple[datetime, datetime | None]] = []
    started: datetime | None = None
    for at, status in timeline:
        if status in CLOCK_RUNS and started is None:
            started = at
        elif status not in CLOCK_RUNS and started is not None:
            periods.append((started, at))
            started = None
    if started is not None:
        periods.append((started, None))
    return periods


def clock(
    target: Target,
    periods: Sequence[tuple[datetime, datetime | None]],
    now: datetime,
    *,
    met_at: datetime | None,
    is_paused: bool,
) -> Clock:
    """The state of a clock that runs in `periods` and stops for good at `met_at` (first reply, resolution).

    `is_paused` says the clock is not running because the case waits on the customer (rather than having been
    resolved): a paused clock keeps its remaining time for when it runs again.
    """
    calendar, goal = target.calendar, target.minutes * 60.0
    if met_at is not None:
        periods = [(s, e if e is not None and e < met_at else met_at) for s, e in periods if s < met_at]
    elapsed, due_at = 0.0, None
    for start, end in periods:
        span = calendar.seconds_between(start, end if end is not None else now)
        if due_at is None and (end is None or elapsed + calendar.seconds_between(start, end) >= goal):
            due_at = calendar.add(start, goal - elapsed)
        elapsed += span
    is_running = bool(periods) and periods[-1][1] is None
    if met_at is not None:
        state = "met"
        if due_at is None:  # met early: the deadline it beat, had the clock kept running
            due_at = calendar.add(met_at, goal - elapsed)
    elif is_running:
        state = "running"
    else:
        state = "paused" if is_paused else "stopped"
    stopped_at = met_at if met_at is not None else (periods[-1][1] if periods and not is_running else None)
    is_breached = due_at is not None and due_at < (met_at if met_at is not None else now)
    return Clock(target.minutes, due_at, elapsed, goal - elapsed, state, is_breached, stopped_at)
