"""The communications area in the console: analysts and communications owners see it, agents do not; every
report renders from the store and exports its data."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.assessment.service import Assessment
from tests.assessment.ecosystem import build
from tests.console.conftest import SignIn

PAGES = ("", "/flow", "/effectiveness", "/bottlenecks", "/redundancy")


def _use(console: TestClient, engine: Engine, tmp_path: Path) -> Assessment:
    assessment = build(engine, tmp_path)
    console.app.state.assessment = assessment  # type: ignore[attr-defined]  # the fixture ecosystem's templates
    return assessment


def test_analysts_and_owners_see_the_communications_area_and_agents_do_not(
    console: TestClient, sign_in: SignIn, engine: Engine, tmp_path: Path
) -> None:
    _use(console, engine, tmp_path)
    for role in ("analyst", "communications"):
        sign_in(role)
        home = console.get("/console")
        assert 'href="/console/communications"' in home.text
        for page in PAGES:
            response = console.get(f"/console/communications{page}")
            assert response.status_code == 200, (role, page, response.text[:300])
            assert "script-src 'self'" in response.headers["content-security-policy"]
        assert console.get("/console/charts/plotly.min.js").text.startswith("/**\n* plotly.js v")
    sign_in("agent")
    assert 'href="/console/communications"' not in console.get("/console").text
    for page in (*PAGES, "/export/inventory"):
        refused = console.get(f"/console/communications{page}")
        assert refused.status_code == 403, page
        assert "card_notice" not in refused.text
    assert console.get("/console/charts/plotly.min.js").status_code == 403


def test_pages_show_the_figures_and_export_them(
    console: TestClient, sign_in: SignIn, engine: Engine, tmp_path: Path
) -> None:
    _use(console, engine, tmp_path)
    sign_in("analyst")
    inventory = console.get("/console/communications").text
    assert "declared, never sent" in inventory
    assert "undeclared" in inventory
    flow = console.get("/console/communications/flow", params={"channel": "sms"}).text
    assert "promo-x" in flow
    assert "card_notice" not in flow.split("Every edge")[1]
    assert "50.0%" in flow  # promo-x: one of two failed
    bottlenecks = console.get("/console/communications/bottlenecks").text
    assert "quiet hours" in bottlenecks
    redundancy = console.get("/console/communications/redundancy").text
    assert "mortgage-app asks for the address; 75% already gave it to branch" in redundancy
    rows = list(csv.DictReader(io.StringIO(console.get("/console/communications/export/inventory").text)))
    assert {r["communication"]: r["flags"] for r in rows} == {
        "card_notice": "", "stmt": "", "promo-x": "undeclared", "survey": "never_sent",
    }  # fmt: skip
    data = orjson.loads(console.get("/console/communications/export/flow", params={"format": "json"}).content)
    assert data["total"] == 11
    assert len(data["edges"]) == 9
    edges = console.get("/console/communications/export/flow", params={"format": "csv", "channel": "paper"}).text
    assert edges.splitlines()[0] == "from,to,volume,failed,failure_share"
    assert len(edges.splitlines()) == 4
    assert console.get("/console/communications/export/nothing").status_code == 404
