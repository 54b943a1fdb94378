"""Cases configuration (`[cases]` in the TOML file, `SEAMLINE_CASES__…` in the environment): queues, the
business calendar and the SLA targets of each priority."""

from __future__ import annotations

import re
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

from seamline.cases.lifecycle import PRIORITIES, queue_error
from seamline.cases.sla import BusinessCalendar, Target

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def _clock_time(value: str, field: str) -> time | None:
    """'HH:MM' as a time; '24:00' (end of day) as None."""
    found = _CLOCK.fullmatch(value)
    if found is None or (found.group(1) == "24" and found.group(2) != "00"):
        raise ValueError(f"{field} must be HH:MM between 00:00 and 24:00, not {value!r}")
    return None if value == "24:00" else time(int(found.group(1)), int(found.group(2)))


class CalendarConfig(BaseModel):
    """When the business clock runs."""

    timezone: str = Field(default="UTC", description="IANA zone name, e.g. Europe/London.")
    working_days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    opens: str = Field(default="09:00", description="Local opening time, HH:MM.")
    closes: str = Field(default="17:00", description="Local closing time, HH:MM; 24:00 is the end of the day.")
    holidays: list[date] = Field(default_factory=list, description="Local dates on which the clock does not run.")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/London)") from None
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if d not in WEEKDAYS]
        if bad or not value:
            raise ValueError(f"working_days must be a non-empty list of {', '.join(WEEKDAYS)}; not {bad}")
        return value

    @model_validator(mode="after")
    def _hours(self) -> CalendarConfig:
        opens, closes = _clock_time(self.opens, "opens"), _clock_time(self.closes, "closes")
        if opens is None:
            raise ValueError("opens must be before 24:00")
        if closes is not None and closes <= opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        return self

    def calendar(self) -> BusinessCalendar:
        """The pure calendar the SLA module computes with."""
        opens = _clock_time(self.opens, "opens")
        assert opens is not None  # checked by the validator
        return BusinessCalendar(
            zone=ZoneInfo(self.timezone),
            working_days=frozenset(WEEKDAYS.index(d) for d in self.working_days),
            opens=opens,
            closes=_clock_time(self.closes, "closes"),
            holidays=frozenset(self.holidays),
        )


class TargetConfig(BaseModel):
    """The SLA of one priority."""

    first_response_minutes: int = Field(ge=1, description="Until the first reply to the customer.")
    resolution_minutes: int = Field(ge=1, description="Until the case is resolved.")
    around_the_clock: bool = Field(default=False, description="Count every minute (24x7), not business hours.")


class TargetsConfig(BaseModel):
    """The SLA of each priority; a priority set in the file or environment needs both of its targets."""

    urgent: TargetConfig = Field(
        default_factory=lambda: TargetConfig(
            first_response_minutes=30, resolution_minutes=4 * 60, around_the_clock=True
        )
    )
    high: TargetConfig = Field(
        default_factory=lambda: TargetConfig(first_response_minutes=60, resolution_minutes=8 * 60)
    )
    normal: TargetConfig = Field(
        default_factory=lambda: TargetConfig(first_response_minutes=4 * 60, resolution_minutes=3 * 8 * 60)
    )
    low: TargetConfig = Field(
        default_factory=lambda: TargetConfig(first_response_minutes=8 * 60, resolution_minutes=5 * 8 * 60)
    )


class CasesConfig(BaseModel):
    """The cases section of the configuration."""

    default_queue: str = Field(default="support", description="Where a case goes when no queue is named.")
    supervisor_queue: str = Field(default="supervisors", description="Where escalated cases go.")
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    targets: TargetsConfig = Field(default_factory=TargetsConfig)

    @field_validator("default_queue", "supervisor_queue")
    @classmethod
    def _queue(cls, value: str) -> str:
        if queue_error(value) is not None:
            raise ValueError(f"a queue is 1-64 lower-case letters, digits, '.', '_' or '-'; not {value!r}")
        return value

    def sla_targets(self) -> dict[str, tuple[Target, Target]]:
        """(first response, resolution) target of each priority."""
        calendar = self.calendar.calendar()
        out: dict[str, tuple[Target, Target]] = {}
        for priority in PRIORITIES:
            target: TargetConfig = getattr(self.targets, priority)
            on = calendar.around_the_clock() if target.around_the_clock else calendar
            out[priority] = (Target(target.first_response_minutes, on), Target(target.resolution_minutes, on))
        return out
