"""The customer-segment filter on both databases, against figures computed by hand from tests/reports/world.py:
profiles 1 and 3 are premier customers (their golden record says `segment: premier`), 2 is not, 4 and 5 say
nothing. The segments are the triggers' segments file, read as a rule on a schedule reads it.

Premier's messages: email c1 (delivered, opened) and c3 (delivered); paper s1 (printed) and s3 (returned); sms
p1. Their CSAT answers in December: 5 (profile 1) and 2 (profile 3); profile 2 gave 4.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import table_of, unit_of_work
from seamline.feedback.models import SurveyAnswer
from seamline.profiles.models import TraitValue
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.reports.catalog import entry
from seamline.reports.dashboards import Dashboards
from seamline.reports.filters import Filters
from seamline.reports.service import saved_reports
from seamline.triggers.membership import Audience
from seamline.triggers.segments import parse_segments
from seamline.users.service import get_user
from tests.console.conftest import SignIn
from tests.reports.world import DECEMBER, T, build, records
from tests.support.builders import make_source

SEGMENTS = """
premier:
  title: Premier customers
  traits: {segment: premier}
royals:
  traits: {segment: royal}
"""
OVERVIEW = entry("overview")
assert OVERVIEW is not None
PREMIER = Filters(DECEMBER.since, DECEMBER.until, segment="premier")


def _csat(profile: int, score: int) -> dict[str, object]:
    return {"survey": "csat_x", "kind": "csat", "touchpoint": "case_resolved", "profile_id": profile,
            "origin_profile_id": profile, "score": score, "via": "api", "snapshot": {},
            "answered_at": datetime(2026, 12, 2, 10, tzinfo=UTC)}  # fmt: skip


def segmented(engine: Engine, tmp_path: Path) -> Dashboards:
    """The reports world with segments, the segment trait on profiles 1-3 and three CSAT answers."""
    dashboards = build(engine, tmp_path)
    source = make_source(engine, "rm-desk", "web")[0].id
    with unit_of_work(engine) as session:
        session.add_all([
            TraitValue(profile_id=p, name="segment", value_json=f'"{v}"', value_hash=v, source_id=source,
                       first_event_id=1, last_event_id=1, first_seen_at=T, last_seen_at=T, times_seen=1)
            for p, v in ((1, "premier"), (2, "everyday"), (3, "premier"))
        ])  # fmt: skip
        session.execute(insert(table_of(SurveyAnswer)), [_csat(1, 5), _csat(2, 4), _csat(3, 2)])
    dashboards.audience = Audience(parse_segments(SEGMENTS, "segments.yaml"), SurvivorshipConfig())
    return dashboards


def test_the_overview_of_a_customer_segment(engine: Engine, tmp_path: Path) -> None:
    dashboards = segmented(engine, tmp_path)
    with unit_of_work(engine, write=False) as session:
        assert dashboards.audience is not None
        assert dashboards.audience.members(session, "premier") == {1, 3}
    board = dashboards.compute(OVERVIEW, PREMIER, "analyst")
    volumes = {r["channel"]: r for r in records(board, "volumes", "by_channel")}
    assert volumes == {
        "email": {"channel": "email", "messages": 2, "sent": 2, "held": 0},
        "paper": {"channel": "paper", "messages": 2, "sent": 2, "held": 0},
        "sms": {"channel": "sms", "messages": 1, "sent": 1, "held": 0},
    }
    rates = {r["channel"]: r for r in records(board, "effectiveness", "by_channel")}
    assert rates["email"] == {
        "channel": "email", "sent": 2, "held": 0, "delivery_rate": 1.0, "open_rate": 0.5, "click_rate": 0.0,
        "failure_rate": 0.0,
    }  # fmt: skip
    assert (rates["paper"]["delivery_rate"], rates["paper"]["failure_rate"]) == (0.5, 0.5)  # s3 came back
    assert dict(board.tile("feedback").figures)["CSAT %"] == "50 (2 answers)"  # type: ignore[union-attr]  # the board built above has this tile
    everyone = dashboards.compute(OVERVIEW, DECEMBER, "analyst")
    assert dict(everyone.tile("feedback").figures)["CSAT %"] == "66.7 (3 answers)"  # type: ignore[union-attr]  # the board built above has this tile
    supports = {t.key: "segment" in t.supports for t in board.tiles}
    assert supports == {
        "volumes": True, "effectiveness": True, "feedback": True, "journeys": False, "errors": False,
        "consent": False, "repeated_identification": False,
    }  # fmt: skip
    nobody = dashboards.compute(OVERVIEW, Filters(DECEMBER.since, DECEMBER.until, segment="royals"), "analyst")
    assert records(nobody, "volumes", "by_channel") == []
    assert dict(nobody.tile("feedback").figures)["CSAT %"] == "—"  # type: ignore[union-attr]  # the board built above has this tile
    split = dashboards.compute(OVERVIEW, Filters(DECEMBER.since, DECEMBER.until, segment="premier", split="product"),
                               "analyst")  # fmt: skip
    assert {r["product"] for r in records(split, "effectiveness", "by_channel")} == {"(no product)"}


def _key(engine: Engine) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "bi", ["reports:read"])
    return {"Authorization": f"Bearer {key}"}


def test_the_api_and_its_exports_take_the_segment(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    dashboards = segmented(engine, tmp_path)
    reader = _key(engine)
    with TestClient(create_app(settings)) as client:
        client.app.state.dashboards = dashboards  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
        answer = client.get("/v1/reports/overview", headers=reader, params=PREMIER.as_query())
        assert answer.status_code == 200
        assert answer.json()["filters"]["segment"] == "premier"
        tiles = {t["key"]: t for t in answer.json()["tiles"]}
        assert tiles["feedback"]["figures"]["CSAT %"] == "50 (2 answers)"
        path = "/v1/reports/overview/volumes/by_channel"
        sms = client.get(path, headers=reader, params={**PREMIER.as_query(), "channel": "sms", "format": "csv"})
        assert sms.text.splitlines() == ["channel,messages,sent,held", "sms,1,1,0"]  # p2 went to profile 2
        bad = client.get("/v1/reports/overview", headers=reader, params={"segment": "vip"})
        assert bad.status_code == 400
        [problem] = bad.json()["error"]["errors"]
        assert (problem["field"], problem["message"]) == ("segment", "no segment 'vip'; known: premier, royals")
        legacy = client.get(path, headers=reader, params={**DECEMBER.as_query(), "segment": "product"})
        assert legacy.status_code == 200  # the product split's old spelling


def test_the_console_filters_saves_and_exports_by_segment(
    console: TestClient, sign_in: SignIn, engine: Engine, tmp_path: Path
) -> None:
    console.app.state.dashboards = segmented(engine, tmp_path)  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
    token = sign_in("analyst")
    page = console.get("/console/reports/overview", params=PREMIER.as_query()).text
    assert '<option value="premier" selected>Premier customers</option>' in page
    assert "segment=premier" in page  # the export links keep it
    export = console.get("/console/reports/export/overview/volumes/by_channel",
                         params={**PREMIER.as_query(), "format": "json"})  # fmt: skip
    assert {r["channel"]: r["messages"] for r in orjson.loads(export.content)} == {"email": 2, "paper": 2, "sms": 1}
    assert console.get("/console/reports/overview", params={"segment": "vip"}).status_code == 400
    form = {"csrf_token": token, "report": "overview", "name": "Premier view", **PREMIER.as_query()}
    saved = console.post("/console/reports/saved", data=form, follow_redirects=False)
    assert saved.status_code == 303
    with unit_of_work(engine, write=False) as session:
        [row] = [r for r in saved_reports(session, get_user(session, "analyst")) if r.name == "Premier view"]
    assert "segment=premier" in row.link
    feedback = console.get("/console/reports/feedback", params={"days": 3660, "segment": "premier"})
    assert feedback.status_code == 200
    assert '<option value="premier" selected>Premier customers</option>' in feedback.text
    trend = console.get("/console/reports/feedback",
                        params={"days": 3660, "segment": "premier", "table": "trend", "format": "json"})  # fmt: skip
    assert sum(p["answers"] for p in orjson.loads(trend.content)) == 2
