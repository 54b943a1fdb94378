"""Tasks: due on the business-hours clock, picked up by one person, completed with an outcome and a follow-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from seamline.cases.sla import BusinessCalendar
from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, InvalidInput
from seamline.tasks.config import TasksConfig
from seamline.tasks.lifecycle import due_at
from seamline.tasks.service import FollowUp, TaskInput, complete, create_task, get_task, list_tasks, pick_up, tasks_of

LONDON = ZoneInfo("Europe/London")
CALENDAR = BusinessCalendar(LONDON, frozenset(range(5)), time(9), time(17), frozenset({date(2026, 12, 25)}))
CONFIG = TasksConfig()
FRIDAY_4PM = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)  # 16:00 in London (winter)


def test_a_due_time_counts_business_hours_only() -> None:
    assert due_at(CALENDAR, FRIDAY_4PM, 120) == datetime(
        2026, 12, 7, 10, 0, tzinfo=UTC
    )  # Friday's last hour, Monday's first
    christmas_eve = datetime(2026, 12, 24, 16, 30, tzinfo=UTC)
    assert due_at(CALENDAR, christmas_eve, 60) == datetime(2026, 12, 28, 9, 30, tzinfo=UTC)  # 25th a holiday, weekend


def test_a_task_is_routed_due_on_the_clock_picked_up_and_completed_with_a_follow_up(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        made = create_task(
            session, TaskInput(41, "Call about the stalled application", "mortgages", ["mortgages"], "high",
                               journey_instance_id="ji-9", communication_ids=["msg_1"]),
            config=CONFIG, calendar=CALENDAR, created_by="rule:stall", now=FRIDAY_4PM,
        )  # fmt: skip
    assert made.due_at == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # high: 4 business hours
    assert (made.status, made.queue, made.journey_instance_id) == ("open", "mortgages", "ji-9")
    with unit_of_work(engine) as session:
        picked = pick_up(session, made.id, actor="alex")
    assert (picked.status, picked.assignee) == ("in-progress", "alex")
    with unit_of_work(engine) as session, pytest.raises(Conflict, match="alex"):
        pick_up(session, made.id, actor="sam")
    with unit_of_work(engine) as session:
        done, follow = complete(
            session, made.id, actor="alex", outcome="resolved", note="Income documents promised by Monday",
            follow_up=FollowUp("Check the income documents arrived", 8 * 60), config=CONFIG, calendar=CALENDAR,
            now=datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
        )  # fmt: skip
    assert (done.status, done.outcome, done.completed_by) == ("done", "resolved", "alex")
    assert follow is not None
    assert follow.follow_up_of == made.id
    assert (follow.queue, follow.due_at) == ("mortgages", datetime(2026, 12, 8, 10, 0, tzinfo=UTC))
    assert follow.communication_ids == ("msg_1",)
    with unit_of_work(engine, write=False) as session:
        assert [t.id for t in list_tasks(session, queues=["mortgages"])] == [follow.id]
        assert [t.id for t in tasks_of(session, [41])] == [follow.id, made.id]
        assert get_task(session, made.id).outcome_note == "Income documents promised by Monday"


def test_bad_tasks_and_outcomes_are_refused_naming_the_field(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        with pytest.raises(InvalidInput) as caught:
            create_task(session, TaskInput(1, " ", "Bad Queue", ["ok", "Not OK"], "asap"), config=CONFIG,
                        calendar=CALENDAR, created_by="t")  # fmt: skip
        assert {(e.field, e.index) for e in caught.value.errors} == {
            ("queue", None),
            ("skills", 1),
            ("priority", None),
            ("title", None),
        }
        made = create_task(session, TaskInput(1, "t"), config=CONFIG, calendar=CALENDAR, created_by="t")
        with pytest.raises(InvalidInput, match="not completed"):
            complete(session, made.id, actor="a", outcome="maybe", config=CONFIG, calendar=CALENDAR)
    assert made.queue == "service"  # the configured default
