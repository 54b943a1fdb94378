"""The SLA clock's calendar math: weekends, evenings, holidays, daylight saving, pauses, 24x7. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from seamline.cases.config import CasesConfig
from seamline.cases.sla import BusinessCalendar, Target, clock, running_periods

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = frozenset(range(5))


def office(zone: ZoneInfo = LONDON, *, holidays: frozenset[date] = frozenset()) -> BusinessCalendar:
    return BusinessCalendar(zone, WEEKDAYS, time(9), time(17), holidays)


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]  # year, month, day… as positionals


def test_time_inside_one_day_counts_in_full_and_evenings_do_not_count() -> None:
    cal = office()
    assert cal.seconds_between(local(LONDON, 2026, 1, 5, 10), local(LONDON, 2026, 1, 5, 12)) == 2 * 3600
    # 16:00 Monday to 10:00 Tuesday: one hour each side of the night
    assert cal.seconds_between(local(LONDON, 2026, 1, 5, 16), local(LONDON, 2026, 1, 6, 10)) == 2 * 3600
    assert cal.seconds_between(local(LONDON, 2026, 1, 5, 18), local(LONDON, 2026, 1, 6, 8)) == 0


def test_weekends_are_skipped_when_adding_and_counting() -> None:
    cal = office()
    friday_four = local(LONDON, 2026, 1, 9, 16)
    assert cal.add(friday_four, 2 * 3600) == local(LONDON, 2026, 1, 12, 10)
    assert cal.seconds_between(friday_four, local(LONDON, 2026, 1, 12, 10)) == 2 * 3600
    # a case opened on Saturday starts counting at Monday's opening
    assert cal.add(local(LONDON, 2026, 1, 10, 11), 30 * 60) == local(LONDON, 2026, 1, 12, 9, 30)


def test_holidays_are_skipped() -> None:
    cal = office(holidays=frozenset({date(2026, 12, 25), date(2026, 12, 28)}))
    # Thursday 24th 16:00 + 3 hours: 1 on Thursday, Friday 25th a holiday, weekend, Monday 28th a holiday
    assert cal.add(local(LONDON, 2026, 12, 24, 16), 3 * 3600) == local(LONDON, 2026, 12, 29, 11)
    assert cal.seconds_between(local(LONDON, 2026, 12, 24, 16), local(LONDON, 2026, 12, 29, 11)) == 3 * 3600


def test_the_end_of_the_day_is_exact_and_zero_moves_into_the_next_window() -> None:
    cal = office()
    assert cal.add(local(LONDON, 2026, 1, 5, 9), 8 * 3600) == local(LONDON, 2026, 1, 5, 17)
    assert cal.add(local(LONDON, 2026, 1, 5, 20), 0) == local(LONDON, 2026, 1, 6, 9)


def test_daylight_saving_keeps_opening_hours_local() -> None:
    cal = office()
    # Spring forward on Sunday 29 March 2026: Friday 16:00 GMT + 2h lands on Monday 10:00 BST (09:00 UTC)
    due = cal.add(local(LONDON, 2026, 3, 27, 16), 2 * 3600)
    assert due == local(LONDON, 2026, 3, 30, 10)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 9, tzinfo=UTC)
    # Autumn back on 25 October 2026: the working day after is still 8 hours, 09:00 local being 09:00 UTC
    assert cal.seconds_between(local(LONDON, 2026, 10, 26, 0), local(LONDON, 2026, 10, 27, 0)) == 8 * 3600
    assert cal.add(local(LONDON, 2026, 10, 23, 16), 2 * 3600).astimezone(UTC) == datetime(2026, 10, 26, 10, tzinfo=UTC)


def test_a_whole_day_calendar_counts_the_hours_that_really_passed_on_dst_days() -> None:
    every_day = BusinessCalendar(NEW_YORK, frozenset(range(7)), time(0), None)
    # 8 March 2026: clocks go from 02:00 to 03:00 in New York, so the day has 23 hours; 1 November has 25
    assert every_day.seconds_between(local(NEW_YORK, 2026, 3, 8, 0), local(NEW_YORK, 2026, 3, 9, 0)) == 23 * 3600
    assert every_day.seconds_between(local(NEW_YORK, 2026, 11, 1, 0), local(NEW_YORK, 2026, 11, 2, 0)) == 25 * 3600


def test_a_calendar_far_from_utc_counts_windows_that_cross_utc_midnight() -> None:
    tokyo = BusinessCalendar(ZoneInfo("Asia/Tokyo"), WEEKDAYS, time(9), time(17))
    # Monday 09:00-17:00 in Tokyo is Monday 00:00-08:00 UTC; asked in UTC from Sunday 23:00 it is all 8 hours
    start = datetime(2026, 1, 4, 23, tzinfo=UTC)
    assert tokyo.seconds_between(start, datetime(2026, 1, 5, 12, tzinfo=UTC)) == 8 * 3600
    assert tokyo.add(start, 3600) == datetime(2026, 1, 5, 1, tzinfo=UTC)


def test_around_the_clock_counts_every_second() -> None:
    cal = office().around_the_clock()
    saturday_night = local(LONDON, 2026, 1, 10, 23)
    assert cal.add(saturday_night, 30 * 60) == saturday_night + timedelta(minutes=30)
    assert cal.seconds_between(saturday_night, saturday_night + timedelta(hours=5)) == 5 * 3600


@given(
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(min_value=1, max_value=60 * 200),
)
def test_adding_then_counting_gives_back_the_same_business_time(start: datetime, minutes: int) -> None:
    cal = office(holidays=frozenset({date(2026, 12, 25), date(2026, 1, 1)}))
    due = cal.add(start, minutes * 60)
    assert cal.seconds_between(start, due) == pytest.approx(minutes * 60)
    local_due = due.astimezone(LONDON)
    assert cal.is_working_day(local_due.date())
    assert time(9) < local_due.time() <= time(17)


def test_a_calendar_without_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="working day"):
        BusinessCalendar(LONDON, frozenset(), time(9), time(17))


def test_pending_customer_pauses_the_clock_and_resolution_stops_it() -> None:
    cal = office()
    opened = local(LONDON, 2026, 1, 5, 9)
    timeline = [
        (opened, "open"),
        (local(LONDON, 2026, 1, 5, 11), "pending-customer"),  # 2 business hours used
        (local(LONDON, 2026, 1, 6, 9), "open"),  # the customer answered the next morning
    ]
    periods = running_periods(timeline)
    target = Target(4 * 60, cal)
    running = clock(target, periods, local(LONDON, 2026, 1, 6, 10), met_at=None, is_paused=False)
    assert running.state == "running"
    assert running.due_at == local(LONDON, 2026, 1, 6, 11)  # 2 hours left when it resumed
    assert running.remaining_seconds == 3600
    assert not running.is_breached

    paused = clock(target, running_periods(timeline[:2]), local(LONDON, 2026, 1, 8, 10), met_at=None, is_paused=True)
    assert (paused.state, paused.due_at, paused.remaining_seconds) == ("paused", None, 2 * 3600)

    late = clock(target, periods, local(LONDON, 2026, 1, 6, 12), met_at=None, is_paused=False)
    assert late.is_breached
    assert late.remaining_seconds == -3600

    resolved_at = local(LONDON, 2026, 1, 6, 10)
    met = clock(target, running_periods([*timeline, (resolved_at, "resolved")]), local(LONDON, 2026, 2, 1, 9),
                met_at=resolved_at, is_paused=False)  # fmt: skip
    assert (met.state, met.is_breached, met.stopped_at) == ("met", False, resolved_at)
    assert met.due_at == local(LONDON, 2026, 1, 6, 11)


def test_a_reopened_case_resumes_with_the_time_already_spent() -> None:
    cal = office()
    timeline = [
        (local(LONDON, 2026, 1, 5, 9), "open"),
        (local(LONDON, 2026, 1, 5, 10), "resolved"),
        (local(LONDON, 2026, 1, 7, 9), "open"),
    ]
    state = clock(
        Target(3 * 60, cal), running_periods(timeline), local(LONDON, 2026, 1, 7, 9), met_at=None, is_paused=False
    )
    assert state.due_at == local(LONDON, 2026, 1, 7, 11)
    assert state.elapsed_seconds == 3600


def test_the_configuration_builds_calendars_and_refuses_nonsense() -> None:
    config = CasesConfig.model_validate(
        {
            "calendar": {
                "timezone": "Europe/Berlin",
                "working_days": ["mon", "sat"],
                "opens": "08:30",
                "closes": "24:00",
            },
            "targets": {"high": {"first_response_minutes": 15, "resolution_minutes": 120}},
        }
    )
    targets = config.sla_targets()
    first, resolution = targets["high"]
    assert (first.minutes, resolution.minutes, first.calendar.closes) == (15, 120, None)
    assert first.calendar.working_days == frozenset({0, 5})
    assert targets["urgent"][0].calendar.always
    for bad in (
        {"calendar": {"timezone": "Mars/Olympus"}},
        {"calendar": {"opens": "18:00", "closes": "09:00"}},
        {"calendar": {"working_days": ["funday"]}},
        {"calendar": {"closes": "25:00"}},
        {"targets": {"low": {"first_response_minutes": 0, "resolution_minutes": 10}}},
        {"default_queue": "Not A Queue"},
    ):
        with pytest.raises(ValidationError):
            CasesConfig.model_validate(bad)
