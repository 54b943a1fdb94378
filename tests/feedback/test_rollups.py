"""The outer loop against hand-computed figures, on both databases: the trend per day and per ISO week (answers
near midnight UTC fall on their own UTC day), the rollups by touchpoint with the errors and cases of the same
people, and the period's bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from seamline.cases.config import CasesConfig
from seamline.cases.service import open_case
from seamline.config import Settings
from seamline.core.db import table_of, unit_of_work
from seamline.core.errors import InvalidInput
from seamline.feedback.models import SurveyAnswer
from seamline.feedback.rollups import overall, rollup, score_trend

SUNDAY = datetime(2026, 11, 29, 23, 59, 30, tzinfo=UTC)  # the last moment of ISO week 48
MONDAY = datetime(2026, 11, 30, 0, 0, 30, tzinfo=UTC)  # the first of week 49


def _answer(
    profile: int, kind: str, score: int, at: datetime, touchpoint: str, agent: str | None = None
) -> dict[str, object]:
    return {"survey": f"{kind}_x", "kind": kind, "touchpoint": touchpoint, "profile_id": profile,
            "origin_profile_id": profile, "score": score, "via": "api", "snapshot": {}, "agent": agent,
            "answered_at": at}  # fmt: skip


@pytest.fixture
def answered(engine: Engine) -> None:
    rows = [
        _answer(1, "csat", 5, SUNDAY, "case_resolved", "alex"),
        _answer(2, "csat", 2, SUNDAY - timedelta(hours=1), "case_resolved", "alex"),
        _answer(3, "csat", 4, MONDAY, "case_resolved", "blair"),
        _answer(1, "nps", 10, MONDAY, "journey_completed"),
        _answer(2, "nps", 3, MONDAY + timedelta(days=2), "journey_completed"),
        _answer(3, "nps", 8, MONDAY + timedelta(days=2), "journey_completed"),
        _answer(4, "ces", 6, MONDAY + timedelta(days=3), "message_delivered"),
        _answer(4, "ces", 3, MONDAY + timedelta(days=20), "message_delivered"),  # outside the period below
    ]
    with engine.begin() as conn:
        conn.execute(insert(table_of(SurveyAnswer)), rows)
    with unit_of_work(engine) as session:  # person 2 opened two cases in the period, person 3 one before it
        for profile, at in ((2, SUNDAY - timedelta(days=2)), (2, MONDAY), (3, SUNDAY - timedelta(days=30))):
            open_case(session, CasesConfig(), profile_id=profile, subject="Help", channel="phone", actor="alex",
                      surface="console", now=at)  # fmt: skip


def test_the_trend_per_day_and_per_week(engine: Engine, settings: Settings, answered: None) -> None:
    since, until = SUNDAY - timedelta(days=6), MONDAY + timedelta(days=7)
    with unit_of_work(engine, write=False) as session:
        days = score_trend(session, since=since, until=until, bucket="day")
        weeks = score_trend(session, since=since, until=until, bucket="week")
        figures = overall(session, since=since, until=until)
    assert [(p.start, p.kind, p.answers, p.score) for p in days] == [
        (date(2026, 11, 29), "csat", 2, 50.0),  # 5 and 2: one of two satisfied
        (date(2026, 11, 30), "csat", 1, 100.0),
        (date(2026, 11, 30), "nps", 1, 100.0),
        (date(2026, 12, 2), "nps", 2, -50.0),  # a detractor (3) and a passive (8)
        (date(2026, 12, 3), "ces", 1, 6.0),
    ]
    assert [(p.start, p.kind, p.answers, p.score) for p in weeks] == [
        (date(2026, 11, 23), "csat", 2, 50.0),
        (date(2026, 11, 30), "csat", 1, 100.0),
        (date(2026, 11, 30), "nps", 3, 0.0),  # 10, 3, 8: one promoter, one detractor
        (date(2026, 11, 30), "ces", 1, 6.0),
    ]
    assert [(f.kind, f.answers, f.score) for f in figures] == [("csat", 3, 66.7), ("nps", 3, 0.0), ("ces", 1, 6.0)]


def test_the_rollup_counts_the_cases_of_the_same_people(engine: Engine, settings: Settings, answered: None) -> None:
    since, until = SUNDAY - timedelta(days=6), MONDAY + timedelta(days=7)
    with unit_of_work(engine, write=False) as session:
        rows = {r.key: r for r in rollup(session, by="touchpoint", since=since, until=until)}
        agents = {r.key: r for r in rollup(session, by="agent", since=since, until=until)}
    case = rows["case_resolved"]
    assert (case.answers, case.unhappy, case.people, case.people_with_cases, case.cases) == (3, 1, 3, 1, 2)
    journey = rows["journey_completed"]
    assert (journey.answers, journey.unhappy, journey.people_with_cases) == (3, 1, 1)
    assert rows["message_delivered"].answers == 1
    assert (agents["alex"].answers, agents["blair"].answers, agents[None].answers) == (2, 1, 4)
    assert [(f.kind, f.score) for f in agents["alex"].figures] == [("csat", 50.0)]
    with unit_of_work(engine, write=False) as session, pytest.raises(InvalidInput):
        rollup(session, by="touchpoint", since=until, until=since)
