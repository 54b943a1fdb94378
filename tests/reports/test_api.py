"""The dashboards over HTTP, for a server key with `reports:read`: every tile, and any table as CSV or JSON."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.reports.world import DECEMBER, build


def _key(engine: Engine, name: str, scope: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, [scope])
    return {"Authorization": f"Bearer {key}"}


def test_the_overview_and_its_tables_for_a_reports_key_only(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    dashboards = build(engine, tmp_path)
    reader, other = _key(engine, "bi", "reports:read"), _key(engine, "crm", "profiles:read")
    with TestClient(create_app(settings)) as client:
        client.app.state.dashboards = dashboards  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
        assert client.get("/v1/reports/overview").status_code == 401
        assert client.get("/v1/reports/overview", headers=other).status_code == 403
        answer = client.get("/v1/reports/overview", headers=reader, params=DECEMBER.as_query())
        assert answer.status_code == 200
        tiles = {t["key"]: t for t in answer.json()["tiles"]}
        assert tiles["effectiveness"]["available"]  # a reports key reads every tile, as it reads the assessment
        assert tiles["feedback"]["available"]  # the surveys' scores (none answered in this world)
        assert tiles["volumes"]["filters"] == ["channel", "period", "product", "segment", "split"]
        assert tiles["consent"]["tables"][1]["rows"] == [
            {"document_type": "statements", "electronic": 3, "paper": 1, "no_choice": 1, "electronic_share": 0.6}
        ]
        path = "/v1/reports/overview/volumes/by_channel"
        csv = client.get(path, headers=reader, params={**DECEMBER.as_query(), "format": "csv"})
        assert csv.text.splitlines()[:2] == ["channel,messages,sent,held", "email,5,4,1"]
        sms = client.get(path, headers=reader, params={**DECEMBER.as_query(), "channel": "sms"})
        assert orjson.loads(sms.content) == [{"channel": "sms", "messages": 2, "sent": 2, "held": 0}]
        bad = client.get("/v1/reports/overview", headers=reader, params={"since": "2026-13-01"})
        assert bad.status_code == 400
        assert bad.json()["error"]["errors"][0]["field"] == "since"
        assert client.get("/v1/reports/assessment", headers=reader).status_code == 404  # not a dashboard
        assert client.get("/v1/reports/overview/volumes/nope", headers=reader).status_code == 404
