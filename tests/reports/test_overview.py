"""The CX overview computed from the store on both databases, against figures computed by hand (world.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, insert

from seamline.core.db import table_of
from seamline.feedback.models import SurveyAnswer
from seamline.reports import customers
from seamline.reports.catalog import OVERVIEW_TILES, ReportEntry, TileSlot, entry
from seamline.reports.config import ReportsConfig
from seamline.reports.dashboards import TileCache
from seamline.reports.filters import Filters
from seamline.reports.reading import Reading
from seamline.reports.tiles import Tile
from tests.reports.world import DECEMBER, build, records

OVERVIEW = entry("overview")
assert OVERVIEW is not None


def test_every_tile_from_the_store(engine: Engine, tmp_path: Path) -> None:
    dashboards = build(engine, tmp_path)
    board = dashboards.compute(OVERVIEW, DECEMBER, "analyst")
    assert [t.key for t in board.tiles] == [s.key for s in OVERVIEW_TILES]
    assert records(board, "volumes", "by_channel") == [
        {"channel": "email", "messages": 5, "sent": 4, "held": 1},
        {"channel": "paper", "messages": 4, "sent": 4, "held": 0},
        {"channel": "sms", "messages": 2, "sent": 2, "held": 0},
    ]
    assert records(board, "volumes", "by_day")[0] == {"day": "2026-12-01", "channel": "paper", "messages": 4}
    email = next(r for r in records(board, "effectiveness", "by_channel") if r["channel"] == "email")
    assert email == {
        "channel": "email", "sent": 4, "held": 1, "delivery_rate": 0.75, "open_rate": 0.5, "click_rate": 0.25,
        "failure_rate": 0.25,
    }  # fmt: skip
    assert records(board, "journeys", "by_journey") == [
        {
            "journey": "open_account", "name": "Open an account", "started": 4, "open": 1, "stalled": 0,
            "abandoned": 1, "completed": 2, "completion_rate": 0.5,
        }
    ]  # fmt: skip
    severities = {r["severity"]: r for r in records(board, "errors", "by_severity")}
    assert severities["critical"]["errors"] == 1
    assert severities["critical"]["acknowledged_in_time"] == 1
    assert sum(int(str(r["errors"])) for r in severities.values()) == 2
    assert records(board, "consent", "consent") == [
        {"purpose": "marketing", "channel": "email", "granted": 1, "denied": 2, "no_choice": 2, "granted_share": 0.2}
    ]
    assert records(board, "consent", "paperless") == [
        {"document_type": "statements", "electronic": 3, "paper": 1, "no_choice": 1, "electronic_share": 0.6}
    ]
    assert all(t.available for t in board.tiles)
    assert records(board, "feedback", "trend") == []  # nobody answered a survey in this world
    assert dict(board.tile("repeated_identification").figures)["most in one day"] == "0"  # type: ignore[union-attr]  # the board built above has this tile
    missing = ReportEntry("x", "X", "/console/reports/overview", OVERVIEW.permission, "", (TileSlot("x", "X", None),))
    assert not dashboards.compute(missing, DECEMBER, "analyst").tiles[0].available  # "not available"


def test_filters_narrow_the_tiles_that_support_them(engine: Engine, tmp_path: Path) -> None:
    dashboards = build(engine, tmp_path)
    email = dashboards.compute(OVERVIEW, Filters(DECEMBER.since, DECEMBER.until, channel="email"), "analyst")
    assert [r["channel"] for r in records(email, "volumes", "by_channel")] == ["email"]
    only_sms = dashboards.compute(OVERVIEW, Filters(DECEMBER.since, DECEMBER.until, channel="sms"), "analyst")
    assert records(only_sms, "consent", "consent") == []  # nobody chose about sms
    first_day = dashboards.compute(OVERVIEW, Filters(date(2026, 12, 1), date(2026, 12, 1)), "analyst")
    assert [r["channel"] for r in records(first_day, "volumes", "by_channel")] == ["paper"]
    by_product = dashboards.compute(OVERVIEW, Filters(DECEMBER.since, DECEMBER.until, split="product"), "analyst")
    assert {r["product"] for r in records(by_product, "effectiveness", "by_channel")} == {"(no product)"}
    assert by_product.tile("journeys") is not None
    assert not by_product.tile("journeys").supports


def test_roles_decide_the_tiles(engine: Engine, tmp_path: Path) -> None:
    dashboards = build(engine, tmp_path)
    supervisor = dashboards.compute(OVERVIEW, DECEMBER, "supervisor")
    assert supervisor.tile("effectiveness") is None  # the assessment's rates are for those who assess
    assert supervisor.tile("volumes") is not None
    assert dashboards.compute(OVERVIEW, DECEMBER, "communications").tile("effectiveness") is not None


def _answer(profile: int, kind: str, score: int, day: int) -> dict[str, object]:
    return {"survey": f"{kind}_x", "kind": kind, "touchpoint": "case_resolved", "profile_id": profile,
            "origin_profile_id": profile, "score": score, "via": "api", "snapshot": {},
            "answered_at": datetime(2026, 12, day, 10, tzinfo=UTC)}  # fmt: skip


def test_the_survey_scores_tile_and_the_tile_cache(engine: Engine, tmp_path: Path) -> None:
    dashboards = build(engine, tmp_path, ReportsConfig(cache_seconds=600))
    answers = [_answer(1, "csat", 5, 1), _answer(2, "csat", 2, 2), _answer(3, "nps", 10, 8), _answer(4, "nps", 3, 9)]
    with engine.begin() as conn:
        conn.execute(insert(table_of(SurveyAnswer)), answers)
    calls: list[Filters] = []

    def counted(reading: Reading, filters: Filters) -> Tile:
        calls.append(filters)
        return customers.feedback(reading, filters)

    slot = TileSlot("feedback", "CSAT, NPS and CES", counted)
    report = ReportEntry("mine", "Mine", "/console/reports/overview", OVERVIEW.permission, "", (slot,))
    first = dashboards.compute(report, DECEMBER, "analyst")
    again = dashboards.compute(report, DECEMBER, "analyst")
    assert len(calls) == 1  # the second was served from the cache
    assert first.tiles == again.tiles
    tile = first.tile("feedback")
    assert tile is not None
    assert dict(tile.figures)["CSAT %"] == "50 (2 answers)"  # one of two satisfied
    assert dict(tile.figures)["NPS"] == "0 (2 answers)"  # one promoter, one detractor
    assert tile.chart is not None
    assert set(tile.chart.series) == {"CSAT %", "NPS"}
    assert records(first, "feedback", "trend") == [  # ISO weeks: 30 Nov (1-2 Dec), 7 Dec (8-9 Dec)
        {"week": "2026-11-30", "survey": "csat", "score": 50.0, "answers": 2},
        {"week": "2026-12-07", "survey": "nps", "score": 0.0, "answers": 2},
    ]


def test_a_stale_tile_is_shown_while_it_is_refreshed_behind(engine: Engine, tmp_path: Path) -> None:
    dashboards = build(engine, tmp_path)
    clock = [0.0]
    dashboards.cache = TileCache(60, 3600, clock=lambda: clock[0])
    values = iter(range(1, 100))

    def counter(reading: object, filters: object) -> Tile:
        return Tile("n", "N", figures=(("n", str(next(values))),))

    report = ReportEntry("n", "N", "/console/reports/overview", "reports:view", "", (TileSlot("n", "N", counter),))

    def shown() -> str:
        tile = dashboards.compute(report, DECEMBER, "analyst").tile("n")
        assert tile is not None
        return tile.figures[0][1]

    assert shown() == "1"  # computed while the page waits: there was none
    clock[0] = 59.0
    assert shown() == "1"  # fresh
    clock[0] = 61.0
    assert shown() == "1"  # stale: shown, and refreshed behind
    dashboards.wait_for_refreshes()
    assert shown() == "2"
    clock[0] = 61.0 + 3600
    assert shown() == "3"  # too old to show: computed while the page waits
