"""The analytics API (a server key with `analytics:read`; the people behind a number also `profiles:read`, and
audited) and `seamline analytics funnel|paths`."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.audit.service import entries
from seamline.cli import app as cli
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.profiles.models import TraitValue
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.triggers.membership import Audience
from seamline.triggers.segments import parse_segments
from tests.analytics.world import FUNNEL, T, build

ROUTES = ("funnels", "paths", "repeated-identification", "cross-channel")


def _key(engine: Engine, name: str, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, list(scopes))
    return {"Authorization": f"Bearer {key}"}


def test_the_reports_over_http_as_json_and_csv(engine: Engine, settings: Settings) -> None:
    world = build(engine)
    reader, other = _key(engine, "cx", "analytics:read"), _key(engine, "crm", "profiles:read")
    funnel = {"steps": list(FUNNEL), "since": "2026-11-01", "until": "2026-11-30", "window_hours": 168}
    with TestClient(create_app(settings)) as client:
        for route in ROUTES:
            params = funnel if route in ("funnels", "paths") else {}
            assert client.get(f"/v1/analytics/{route}", params=params).status_code == 401
            assert client.get(f"/v1/analytics/{route}", params=params, headers=other).status_code == 403
            assert client.get(f"/v1/analytics/{route}", params=params, headers=reader).status_code == 200, route
        body = client.get("/v1/analytics/funnels", params=funnel, headers=reader).json()
        assert [f["reached"] for f in body["figures"]] == [7, 3, 2, 1]
        table = client.get("/v1/analytics/funnels", params={**funnel, "format": "csv"}, headers=reader).text
        rows = list(csv.DictReader(io.StringIO(table)))
        assert [(r["step"], r["reached"], r["dropped"]) for r in rows][1] == ("Documents Uploaded", "3", "1")
        by_channel = client.get("/v1/analytics/funnels", params={**funnel, "breakdown": "channel"}, headers=reader)
        assert {f["group"] for f in by_channel.json()["figures"]} == {None, "web", "mobile"}
        paths = client.get("/v1/analytics/paths", params={**funnel, "step": 1}, headers=reader).json()
        assert paths["paths"][0] == {"path": ["email: doc_reminder", "case (phone)"], "people": 2, "share": 0.5}
        paths_csv = client.get("/v1/analytics/paths", params={**funnel, "format": "csv"}, headers=reader).text
        assert "email: doc_reminder → case (phone),2" in paths_csv
        ident = client.get("/v1/analytics/repeated-identification", headers=reader).json()
        assert ident["days"]["across_channels"] == 1
        cross = client.get("/v1/analytics/cross-channel", params={"format": "csv"}, headers=reader).text
        assert "apply_for_mortgage,web,branch,1" in cross

        bad = client.get(
            "/v1/analytics/funnels", params={"steps": ["Application Started", "journey:X"]}, headers=reader
        )
        assert bad.status_code == 400
        [problem] = bad.json()["error"]["errors"]
        assert (problem["field"], problem["index"]) == ("steps", 1)
        for name, value in (("window_hours", "0"), ("window_hours", "99999999999"), ("breakdown", "colour")):
            refused = client.get("/v1/analytics/funnels", params={**funnel, name: value}, headers=reader)
            assert refused.status_code in (400, 422), (name, value)

        # The people behind a number: personal data, so profiles:read too, and every id read is audited.
        people = {**funnel, "step": 1, "outcome": "dropped"}
        assert client.get("/v1/analytics/funnels/people", params=people, headers=reader).status_code == 403
        both = _key(engine, "cx-people", "analytics:read", "profiles:read")
        listed = client.get("/v1/analytics/funnels/people", params=people, headers=both).json()
        expected = sorted(world.person(p) for p in ("P4", "P5", "P6", "P8"))
        assert (listed["total"], listed["profile_ids"]) == (4, expected)
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=str(expected[0]))
    assert [(e.actor, e.action, e.detail["report"], e.detail["outcome"]) for e in audited] == [
        ("cx-people", "read", "funnel", "dropped")
    ]


def test_the_cli_prints_a_funnel_and_its_paths(engine: Engine, settings: Settings) -> None:
    build(engine)
    env = {"SEAMLINE_DATABASE_URL": settings.database_url, "SEAMLINE_DATA_DIR": str(settings.data_dir)}
    runner = CliRunner()
    found = runner.invoke(
        cli, ["analytics", "funnel", *FUNNEL, "--since", "2026-11-01", "--window-hours", "168", "--format", "csv"],
        env=env,
    )  # fmt: skip
    assert found.exit_code == 0, found.output
    assert [r["reached"] for r in csv.DictReader(io.StringIO(found.stdout))] == ["7", "3", "2", "1"]
    table = runner.invoke(cli, ["analytics", "funnel", *FUNNEL, "--breakdown", "device"], env=env)
    assert table.exit_code == 0, table.output
    assert "android" in table.stdout
    paths = runner.invoke(
        cli, ["analytics", "paths", *FUNNEL, "--step", "1", "--since", "2026-11-01", "--window-hours", "168"], env=env
    )
    assert paths.exit_code == 0, paths.output
    assert "email: doc_reminder → case (phone)" in paths.stdout
    assert "4 people dropped at step 1" in paths.stdout
    bad = runner.invoke(cli, ["analytics", "funnel", "Application Started", "journey:Nope"], env=env)
    assert bad.exit_code == 2
    assert "steps[1]" in bad.stderr


def test_the_funnel_api_takes_a_customer_segment(engine: Engine, settings: Settings) -> None:
    world = build(engine)
    with unit_of_work(engine) as session:  # P1, P3 and P4 are premier
        session.add_all([
            TraitValue(profile_id=world.person(p), name="segment", value_json='"premier"', value_hash="premier",
                       source_id=world.sources["web-site"], first_event_id=1, last_event_id=1, first_seen_at=T,
                       last_seen_at=T, times_seen=1)
            for p in ("P1", "P3", "P4")
        ])  # fmt: skip
    reader = _key(engine, "cx", "analytics:read")
    funnel = {"steps": list(FUNNEL), "since": "2026-11-01", "until": "2026-11-30", "window_hours": 168}
    with TestClient(create_app(settings)) as client:
        segments = parse_segments("premier:\n  traits: {segment: premier}\n", "segments.yaml")
        client.app.state.dashboards.audience = Audience(segments, SurvivorshipConfig())  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
        body = client.get("/v1/analytics/funnels", params={**funnel, "segment": "premier"}, headers=reader).json()
        assert [f["reached"] for f in body["figures"]] == [3, 2, 1, 1]
        bad = client.get("/v1/analytics/funnels", params={**funnel, "segment": "vip"}, headers=reader)
        assert (bad.status_code, bad.json()["error"]["errors"][0]["field"]) == (400, "segment")
