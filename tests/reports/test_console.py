"""The reports area in the console: who sees which report, the overview's tiles and charts, the one export of every
table, and saving and scheduling through the forms."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.console.conftest import SignIn
from tests.reports.world import DECEMBER, build

QUERY = DECEMBER.as_query()


def _use(console: TestClient, engine: Engine, tmp_path: Path) -> None:
    console.app.state.dashboards = build(engine, tmp_path)  # type: ignore[attr-defined]  # the world's templates


def test_roles_decide_who_sees_which_report(
    console: TestClient, sign_in: SignIn, engine: Engine, tmp_path: Path
) -> None:
    _use(console, engine, tmp_path)
    sign_in("agent")
    assert 'href="/console/reports"' not in console.get("/console").text
    for path in (
        "/console/reports",
        "/console/reports/overview",
        "/console/reports/export/overview/volumes/by_channel",
    ):
        assert console.get(path).status_code == 403, path
    sign_in("supervisor")
    index = console.get("/console/reports").text
    assert 'href="/console/reports/overview"' in index
    assert 'href="/console/communications"' not in index  # the assessment is not a supervisor's
    page = console.get("/console/reports/overview", params=QUERY).text
    assert 'data-tile="volumes"' in page
    assert 'data-tile="effectiveness"' not in page
    assert console.get("/console/reports/export/overview/effectiveness/by_channel").status_code == 404
    assert console.get("/console/reports/export/assessment/x/y").status_code == 404
    for role in ("analyst", "communications"):
        sign_in(role)
        assert 'href="/console/communications"' in console.get("/console/reports").text
        page = console.get("/console/reports/overview", params=QUERY)
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert 'data-tile="effectiveness"' in page.text


def test_the_overview_shows_every_tile_and_the_missing_ones_say_so(
    console: TestClient, sign_in: SignIn, engine: Engine, tmp_path: Path
) -> None:
    _use(console, engine, tmp_path)
    sign_in("analyst")
    page = console.get("/console/reports/overview", params=QUERY).text
    for tile in ("volumes", "journeys", "errors", "effectiveness", "consent", "repeated_identification", "feedback"):
        assert f'data-tile="{tile}" data-state="available"' in page, tile
        assert f'id="chart-{tile}"' in page, tile
    assert "Filters it applies: period, product, channel, segment, split." in page
    assert "Filters it applies: none (it shows the present state)." in page  # journeys
    assert "<td>75.0%</td>" in page
    assert "<td>20.0%</td>" in page
    refused = console.get("/console/reports/overview", params={"since": "soon"})
    assert refused.status_code == 400
    assert "since" in refused.text


def test_every_table_exports_as_csv_and_json(
    console: TestClient, sign_in: SignIn, engine: Engine, tmp_path: Path
) -> None:
    _use(console, engine, tmp_path)
    sign_in("analyst")
    page = console.get("/console/reports/overview", params=QUERY).text
    links = sorted(
        {line.split('href="')[1].split('"')[0] for line in page.splitlines() if "/console/reports/export/" in line}
    )
    assert len(links) == 2 * 10  # CSV and JSON of the ten tables
    for link in links:
        response = console.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        assert response.headers["content-disposition"].startswith("attachment; filename=")
        if "format=json" in link:
            assert isinstance(orjson.loads(response.content), list)
        else:
            assert next(csv.reader(io.StringIO(response.text)))  # a header row
    volumes = console.get("/console/reports/export/overview/volumes/by_channel", params={**QUERY, "format": "csv"})
    assert volumes.text == "channel,messages,sent,held\nemail,5,4,1\npaper,4,4,0\nsms,2,2,0\n"
    narrowed = console.get(
        "/console/reports/export/overview/volumes/by_channel", params={**QUERY, "channel": "sms", "format": "json"}
    )
    assert orjson.loads(narrowed.content) == [{"channel": "sms", "messages": 2, "sent": 2, "held": 0}]
    assert (
        console.get("/console/reports/export/overview/volumes/by_channel", params={"format": "xml"}).status_code == 400
    )


def test_save_share_and_schedule_through_the_forms(
    console: TestClient, sign_in: SignIn, engine: Engine, tmp_path: Path
) -> None:
    _use(console, engine, tmp_path)
    token = sign_in("analyst")
    saved = console.post(
        "/console/reports/saved",
        data={
            "csrf_token": token,
            "name": "December by channel",
            "report": "overview",
            "shared": "yes",
            **QUERY,
            "channel": "email",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    index = console.get("/console/reports").text
    assert "December by channel" in index
    assert "channel email" in index
    assert "shared" in index
    opened = console.get("/console/reports/saved/1", follow_redirects=False)
    assert opened.headers["location"] == "/console/reports/overview?since=2026-11-01&until=2026-12-31&channel=email"
    bad = console.post(
        "/console/reports/saved/1/schedules",
        data={"csrf_token": token, "recipients": "nope", "cadence": "daily", "hour": "7"},
    )
    assert bad.status_code == 400
    assert "recipients" in bad.text
    done = console.post(
        "/console/reports/saved/1/schedules",
        data={"csrf_token": token, "recipients": "cx@bank.example", "cadence": "weekly", "weekday": "0", "hour": "6"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "weekly on Monday at 06:00 to cx@bank.example" in console.get("/console/reports").text
    other = sign_in("supervisor")  # sees the shared report, may not change it
    assert "December by channel" in console.get("/console/reports").text
    assert console.post("/console/reports/saved/1/delete", data={"csrf_token": other}).status_code == 404
    assert console.post("/console/reports/schedules/1/delete", data={"csrf_token": other}).status_code == 404
