"""Funnels, detours, cross-channel completion and repeated identification against the hand-computed figures of
tests/analytics/world.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from seamline.analytics.service import Analytics, FunnelQuery, Period
from seamline.core.errors import InvalidInput
from tests.analytics.world import FUNNEL, World, build

NOVEMBER = Period(since=date(2026, 11, 1), until=date(2026, 11, 30))
WEEK = 24 * 7


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


@pytest.fixture
def analytics(engine: Engine, world: World) -> Analytics:
    return Analytics(engine)


def test_a_four_step_funnel_counts_conversion_drop_off_and_time_between_steps(analytics: Analytics) -> None:
    funnel = analytics.funnel(FunnelQuery(FUNNEL, NOVEMBER, WEEK))
    overall = funnel.overall
    assert [f.reached for f in overall] == [7, 3, 2, 1]  # P7 began before the period; P5 uploaded after 9 days
    assert [f.dropped for f in overall] == [4, 1, 1, 0]
    assert [f.conversion for f in overall] == pytest.approx([1.0, 3 / 7, 2 / 7, 1 / 7])
    assert [f.step_conversion for f in overall] == pytest.approx([1.0, 3 / 7, 2 / 3, 1 / 2])
    assert overall[0].drop_off == pytest.approx(4 / 7)
    assert overall[3].drop_off is None
    # Start → upload: 1 h (P1), 30 min (P2), 3 h (P3): median 1 h; p90 interpolated 3600 + 0.8 * 7200.
    assert (overall[1].median_seconds, overall[1].p90_seconds) == (3600.0, 9360.0)
    assert (overall[2].median_seconds, overall[2].p90_seconds) == (3600.0, 3600.0)
    assert overall[3].median_seconds == 22 * 3600.0
    assert overall[0].median_seconds is None


def test_the_window_decides_who_converts(analytics: Analytics) -> None:
    ten_days = analytics.funnel(FunnelQuery(FUNNEL[:2], NOVEMBER, 24 * 10)).overall
    assert [f.reached for f in ten_days] == [7, 4]  # P5's upload after 9 days now counts
    open_period = analytics.funnel(FunnelQuery(FUNNEL[:2], Period(), WEEK)).overall
    assert [f.reached for f in open_period] == [8, 4]  # P7 too


@pytest.mark.parametrize(
    ("breakdown", "expected"),
    [
        ("channel", {"web": [5, 2, 1, 1], "mobile": [2, 1, 1, 0]}),
        ("device", {"(none)": [5, 2, 1, 1], "ios": [1, 1, 1, 0], "android": [1, 0, 0, 0]}),
        ("source", {"web-site": [5, 2, 1, 1], "mobile-app": [2, 1, 1, 0]}),
    ],
)
def test_breakdowns_by_channel_device_and_source(
    analytics: Analytics, breakdown: str, expected: dict[str, list[int]]
) -> None:
    funnel = analytics.funnel(FunnelQuery(FUNNEL, NOVEMBER, WEEK, breakdown))
    groups: dict[str, list[int]] = {}
    for f in funnel.figures:
        if f.group is not None:
            groups.setdefault(f.group, []).append(f.reached)
    assert groups == expected
    assert [f.reached for f in funnel.overall] == [7, 3, 2, 1]


def test_a_property_filter_and_journey_steps_as_funnel_steps(analytics: Analytics) -> None:
    mortgage = analytics.funnel(FunnelQuery(("Application Started[product=mortgage]", "Documents Uploaded"), NOVEMBER))
    assert [f.reached for f in mortgage.overall] == [3, 3]
    journey = ("journey:apply_for_mortgage.started", "journey:apply_for_mortgage.income",
               "journey:apply_for_mortgage.property", "journey:apply_for_mortgage.completed")  # fmt: skip
    figures = analytics.funnel(FunnelQuery(journey, NOVEMBER, breakdown="channel"))
    assert [f.reached for f in figures.overall] == [5, 5, 4, 4]
    web = [f.reached for f in figures.figures if f.group == "web"]
    assert web == [4, 4, 3, 3]


def test_the_people_behind_a_number(analytics: Analytics, world: World) -> None:
    query = FunnelQuery(FUNNEL, NOVEMBER, WEEK, "channel")
    dropped = analytics.people(query, step=1, outcome="dropped")
    assert dropped.total == 4
    assert list(dropped.profile_ids) == sorted(world.person(p) for p in ("P4", "P5", "P6", "P8"))
    web = analytics.people(query, step=2, outcome="reached", group="web")
    assert list(web.profile_ids) == sorted(world.person(p) for p in ("P1", "P3"))
    page = analytics.people(query, step=1, outcome="reached", limit=2, offset=6)
    assert (page.total, len(page.profile_ids)) == (7, 1)


def test_detours_after_dropping_off(analytics: Analytics) -> None:
    view = analytics.paths(FunnelQuery(FUNNEL, NOVEMBER, WEEK), at=1, depth=3)
    assert (view.who, view.people) == ("dropped", 4)
    assert [(p.text, p.people) for p in view.paths] == [
        ("email: doc_reminder → case (phone)", 2),  # P4, P8: got the reminder email, then phoned
        ("(nothing)", 1),  # P5: the upload came after the horizon
        ("Application Submitted (web)", 1),  # P6
    ]
    assert view.first_touches[0] == ("email: doc_reminder", 2)
    after_upload = analytics.paths(FunnelQuery(FUNNEL, NOVEMBER, WEEK), at=2, depth=1)
    assert [(p.text, p.people) for p in after_upload.paths] == [("email: doc_reminder", 1)]  # P3
    last = analytics.paths(FunnelQuery(FUNNEL[:1], NOVEMBER, WEEK), at=1, depth=1)
    assert (last.who, last.people) == ("reached", 7)


def test_cross_channel_completion(analytics: Analytics) -> None:
    found = analytics.cross_channel(NOVEMBER)
    [mortgage] = found.journeys
    assert (mortgage.started, mortgage.completed) == (5, 4)
    assert (mortgage.cross_channel, mortgage.cross_device, mortgage.at_branch) == (3, 1, 2)
    pairs = {(h.started_channel, h.finished_channel): h.completed for h in found.handovers}
    assert pairs == {("web", "mobile"): 1, ("mobile", "branch"): 1, ("web", "web"): 1, ("web", "branch"): 1}


def test_repeated_identification_on_the_planted_patchwork_journey(analytics: Analytics) -> None:
    found = analytics.repeated_identification(NOVEMBER)
    days = found.days
    assert (days.person_days, days.repeated, days.across_channels, days.most_in_a_day) == (3, 2, 1, 4)
    assert dict(days.histogram) == {"1": 1, "2": 1, "3": 0, "4": 1, "5+": 0}
    assert dict(days.again_by_channel) == {"mobile": 2, "phone": 1, "branch": 1}
    [journey] = found.journeys
    assert (journey.instances, journey.repeated, journey.across_channels, journey.most) == (5, 2, 1, 4)
    assert journey.mean_identifications == pytest.approx(1.4)


def test_bad_input_names_the_field_and_index(analytics: Analytics) -> None:
    with pytest.raises(InvalidInput) as caught:
        analytics.funnel(FunnelQuery(("Application Started", "journey:Bad Key.x", "x[=no]"), NOVEMBER))
    problems = {(e.field, e.index) for e in caught.value.errors}
    assert problems == {("steps", 1), ("steps", 2)}
    with pytest.raises(InvalidInput) as caught:
        analytics.funnel(FunnelQuery(FUNNEL, NOVEMBER, breakdown="colour"))
    assert caught.value.errors[0].field == "breakdown"
    with pytest.raises(InvalidInput):
        analytics.paths(FunnelQuery(FUNNEL, NOVEMBER), at=5)


def test_a_customer_segment_decides_who_may_enter(analytics: Analytics, world: World) -> None:
    members = frozenset(world.person(p) for p in ("P1", "P3", "P4", "P7"))  # P7 began before the period
    query = FunnelQuery(FUNNEL, NOVEMBER, WEEK, segment="some", people=members)
    assert [f.reached for f in analytics.funnel(query).overall] == [3, 2, 1, 1]
    assert [f.dropped for f in analytics.funnel(query).overall] == [1, 1, 0, 0]
    dropped = analytics.people(query, step=1, outcome="dropped")
    assert list(dropped.profile_ids) == [world.person("P4")]
    view = analytics.paths(query, at=1, depth=3)
    assert [(p.text, p.people) for p in view.paths] == [("email: doc_reminder → case (phone)", 1)]  # P4
    nobody = FunnelQuery(FUNNEL, NOVEMBER, WEEK, people=frozenset())
    assert [f.reached for f in analytics.funnel(nobody).overall] == [0, 0, 0, 0]
