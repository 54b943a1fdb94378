"""The stall scan in pages: each pass marks at most its limit, the longest quiet first, and the next pass goes on
where it stopped; an open journey quiet past `abandon_after` is abandoned at once, as is a stalled one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, text

from seamline.core.db import table_of, unit_of_work
from seamline.journeys import family
from seamline.journeys.models import JourneyInstance
from seamline.journeys.stalls import scan
from tests.journeys.support import load_demo_definitions

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _instance(public_id: str, status: str, quiet_days: int) -> dict[str, object]:
    at = NOW - timedelta(days=quiet_days)
    return {
        "public_id": public_id, "journey": "apply_for_mortgage", "profile_id": 1, "origin_profile_id": 1,
        "status": status, "current_step": "property", "step_since": at, "started_at": at, "started_channel": "web",
        "last_activity_at": at, "event_id": 0,
    }  # fmt: skip


def _statuses(engine: Engine) -> dict[str, str]:
    table = table_of(JourneyInstance)
    with engine.connect() as conn:
        return {str(p): str(s) for p, s in conn.execute(select(table.c.public_id, table.c.status))}


def test_a_scan_marks_in_pages_longest_quiet_first(engine: Engine) -> None:
    load_demo_definitions(engine)  # apply_for_mortgage: stalled after 3 days, abandoned after 30
    rows = [
        _instance("ji_4d", "open", 4), _instance("ji_9d", "open", 9), _instance("ji_6d", "open", 6),
        _instance("ji_1d", "open", 1), _instance("ji_40d", "open", 40), _instance("ji_35s", "stalled", 35),
        _instance("ji_done", "completed", 50),
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(table_of(JourneyInstance)), rows)

    with unit_of_work(engine) as session:
        assert scan(session, NOW, limit=1, max_changes=1) == 3  # one from each pass: open, stalled, then stall
    assert _statuses(engine) == {
        "ji_4d": "open", "ji_9d": "stalled", "ji_6d": "open", "ji_1d": "open", "ji_40d": "abandoned",
        "ji_35s": "abandoned", "ji_done": "completed",
    }  # fmt: skip
    with unit_of_work(engine) as session:
        assert scan(session, NOW, limit=1, max_changes=1) == 1  # the next longest quiet
    assert _statuses(engine)["ji_6d"] == "stalled"
    assert _statuses(engine)["ji_4d"] == "open"
    with unit_of_work(engine) as session:
        assert scan(session, NOW, limit=1) == 1
        assert scan(session, NOW, limit=1) == 0
    assert _statuses(engine) == {
        "ji_4d": "stalled", "ji_9d": "stalled", "ji_6d": "stalled", "ji_1d": "open", "ji_40d": "abandoned",
        "ji_35s": "abandoned", "ji_done": "completed",
    }  # fmt: skip


def test_an_announcement_is_the_family_message_the_api_would_write() -> None:
    for person, step in (({"userId": "u-1"}, "property"), ({"anonymousId": "a-1"}, None)):
        built = family.message(
            "Journey Stalled", person, journey="apply_for_mortgage", instance_id="ji_1", step=step,
            channel="seamline", message_id="stalled-ji_1-T",
        )  # fmt: skip
        announced = family.announcement("Journey Stalled", person, "apply_for_mortgage", "ji_1", step, "stalled-ji_1-T")
        assert announced == built


# The plan under which PostgreSQL runs a `LIMIT … SKIP LOCKED` subquery under `IN` again for each outer row (a
# nested-loop semi join, nothing materialized): with 7 rows and no statistics it may choose it by itself.
_RESCANNING_PLAN = ("enable_hashjoin", "enable_mergejoin", "enable_material", "enable_hashagg", "enable_sort")


def test_a_pass_marks_at_most_its_limit_whatever_plan_the_database_picks(engine: Engine) -> None:
    load_demo_definitions(engine)
    rows = [_instance(f"ji_{days}d", "open", days) for days in (4, 9, 6, 5, 7)]
    with engine.begin() as conn:
        conn.execute(insert(table_of(JourneyInstance)), rows)

    with unit_of_work(engine) as session:
        if engine.dialect.name == "postgresql":
            for setting in _RESCANNING_PLAN:
                session.execute(text(f"SET LOCAL {setting} = off"))
        assert scan(session, NOW, limit=2, max_changes=1) == 2
    assert _statuses(engine) == {
        "ji_4d": "open", "ji_9d": "stalled", "ji_6d": "open", "ji_5d": "open", "ji_7d": "stalled"
    }  # fmt: skip
