"""The assessment's API (a server key with `reports:read`) and `seamline assess --out DIR`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.cli import app as cli
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.assessment.ecosystem import build


def _key(engine: Engine, name: str, scope: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, [scope])
    return {"Authorization": f"Bearer {key}"}


def test_each_report_has_a_route_for_a_reports_key_only(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    assessment = build(engine, tmp_path)
    reader, other = _key(engine, "analyst", "reports:read"), _key(engine, "crm", "profiles:read")
    with TestClient(create_app(settings)) as client:
        client.app.state.assessment = assessment  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
        for path in ("inventory", "flow-map", "effectiveness", "bottlenecks", "redundancy"):
            assert client.get(f"/v1/assessment/{path}").status_code == 401
            assert client.get(f"/v1/assessment/{path}", headers=other).status_code == 403
            assert client.get(f"/v1/assessment/{path}", headers=reader).status_code == 200, path
        flow = client.get("/v1/assessment/flow-map", headers=reader, params={"platform": "mailer"}).json()
        assert (flow["total"], len(flow["edges"])) == (5, 3)
        rows = client.get("/v1/assessment/inventory", headers=reader).json()
        assert {r["communication"]: r["flags"] for r in rows}["promo-x"] == ["undeclared"]
        table = client.get("/v1/assessment/inventory", headers=reader, params={"format": "csv"}).text
        assert next(csv.DictReader(io.StringIO(table)))["communication"] == "card_notice"
        effect = client.get("/v1/assessment/effectiveness", headers=reader, params={"segment": "product"}).json()
        assert {r["segment"] for r in effect} == {"(no product)"}
        found = client.get("/v1/assessment/redundancy", headers=reader).json()
        assert found[0]["already_held"] == 3
        assert found[0]["first_holder"] == "branch"
        bad = client.get("/v1/assessment/inventory", headers=reader, params={"since": "yesterday"})
        assert bad.status_code in (400, 422)
        assert "since" in bad.text


def test_assess_writes_every_report_and_the_flow_map_picture(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    build(engine, tmp_path)  # its templates are in tmp_path/templates
    out = tmp_path / "steering"
    env = {
        "SEAMLINE_DATABASE_URL": settings.database_url,
        "SEAMLINE_DATA_DIR": str(settings.data_dir),
        "SEAMLINE_EMAIL__TEMPLATES_DIR": str(tmp_path / "templates"),
    }
    result = CliRunner().invoke(cli, ["assess", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "flow map: 11 communications, 9 edges" in result.stdout
    names = {p.name for p in out.iterdir()}
    for report in ("inventory", "flow-map-edges", "effectiveness", "bottlenecks", "redundancy"):
        assert {f"{report}.csv", f"{report}.json"} <= names
    svg = (out / "flow-map.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    assert svg.count('class="edge"') == 9
    assert svg.count('class="node"') == 12
    assert "promo-x (2)" in svg
    inventory = orjson.loads((out / "inventory.json").read_bytes())
    assert {r["communication"]: r["flags"] for r in inventory}["survey"] == "never_sent"
    plotly = orjson.loads((out / "flow-map.plotly.json").read_bytes())
    assert plotly["data"][0]["type"] == "sankey"
