"""Funnels and paths in the console's reports area: roles that view reports see the numbers; only a role that may
also view customers opens the people behind a number, and each one shown is audited."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlencode

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.audit.service import entries
from seamline.core.db import unit_of_work
from seamline.profiles.models import TraitValue
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.triggers.membership import Audience
from seamline.triggers.segments import parse_segments
from tests.analytics.world import FUNNEL, T, build
from tests.console.conftest import SignIn, log_in

QUERY = {"steps": "\n".join(FUNNEL), "since": "2026-11-01", "until": "2026-11-30", "window_hours": "168"}


def test_report_roles_see_the_numbers_and_only_customer_roles_the_people(
    console: TestClient, sign_in: SignIn, engine: Engine
) -> None:
    world = build(engine)
    people = f"/console/reports/funnels/people?{urlencode({**QUERY, 'step': 1, 'outcome': 'dropped'})}"
    for role in ("analyst", "communications", "supervisor"):
        sign_in(role)
        funnel = console.get(f"/console/reports/funnels?{urlencode(QUERY)}")
        assert funnel.status_code == 200, (role, funnel.text[:300])
        assert "script-src 'self'" in funnel.headers["content-security-policy"]
        assert 'id="funnel-chart"' in funnel.text
        assert ("/console/reports/funnels/people?" in funnel.text) == (role == "supervisor")
        paths = console.get(f"/console/reports/paths?{urlencode({**QUERY, 'step': 1})}")
        assert paths.status_code == 200
        assert "email: doc_reminder → case (phone)" in paths.text
        assert console.get("/console/charts/plotly.min.js").text.startswith("/**\n* plotly.js v")
        listed = console.get(people)
        assert listed.status_code == (200 if role == "supervisor" else 403), role
    assert f'href="/console/customers/{world.person("P4")}"' in listed.text
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=str(world.person("P4")))
    assert [(e.actor, e.surface, e.detail["report"]) for e in audited] == [("console:supervisor", "console", "funnel")]
    for role in ("agent", "admin"):
        sign_in(role)
        assert console.get("/console/reports/funnels").status_code == 403
        assert console.get("/console/reports/paths").status_code == 403
    log_in(console, "analyst")
    bad = console.get(f"/console/reports/funnels?{urlencode({**QUERY, 'steps': 'Started' + chr(10) + 'journey:X'})}")
    assert bad.status_code == 400
    assert "steps (line 2)" in bad.text


def test_every_table_on_the_funnel_and_paths_pages_downloads_as_csv_and_json(
    console: TestClient, sign_in: SignIn, engine: Engine
) -> None:
    build(engine)
    sign_in("analyst")
    page = console.get(f"/console/reports/funnels?{urlencode(QUERY)}").text
    links = {a.split('"')[0].replace("&amp;", "&") for a in page.split('href="/console/reports/funnels?')[1:]}
    downloads = sorted(link for link in links if "format=" in link)
    assert len(downloads) == 2 * 3  # the funnel, cross-channel completion and repeated identification
    for link in downloads:
        answer = console.get(f"/console/reports/funnels?{link}")
        assert answer.status_code == 200, link
        assert answer.headers["content-disposition"].startswith("attachment; filename=")
    funnel = console.get("/console/reports/funnels", params={**QUERY, "table": "funnel", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(funnel.text)))
    assert [(r["step"], r["reached"], r["dropped"]) for r in rows][1] == ("Documents Uploaded", "3", "1")
    paths = console.get("/console/reports/paths", params={**QUERY, "step": 1, "format": "json"})
    assert orjson.loads(paths.content)[0] == {
        "step": "Application Started", "who": "dropped", "path": "email: doc_reminder → case (phone)", "people": 2,
        "share": 0.5,
    }  # fmt: skip
    assert console.get("/console/reports/paths", params={**QUERY, "format": "xls"}).status_code == 400


def test_a_funnel_is_saved_with_its_steps_and_opens_as_it_was(
    console: TestClient, sign_in: SignIn, engine: Engine
) -> None:
    build(engine)
    token = sign_in("analyst")
    page = console.get(f"/console/reports/funnels?{urlencode({**QUERY, 'breakdown': 'channel'})}").text
    assert 'action="/console/reports/saved"' in page
    assert 'name="steps"' in page  # the form keeps the page's steps
    form = {"csrf_token": token, "name": "Mortgage funnel", "report": "funnels", **QUERY, "breakdown": "channel",
            "colour": "red"}  # fmt: skip
    saved = console.post("/console/reports/saved", data=form, follow_redirects=False)
    assert saved.status_code == 303
    index = console.get("/console/reports").text
    [link] = [a.split('"')[0] for a in index.split('href="/console/reports/saved/')[1:]]
    opened = console.get(f"/console/reports/saved/{link}", follow_redirects=False)
    assert opened.status_code == 303
    target = opened.headers["location"]
    assert target.startswith("/console/reports/funnels?")
    assert parse_qs(target.split("?", 1)[1]) == {
        "since": ["2026-11-01"],
        "until": ["2026-11-30"],
        "steps": ["\n".join(FUNNEL)],
        "window_hours": ["168"],
        "breakdown": ["channel"],
    }  # fmt: skip; a parameter the catalog does not name for the report (colour) is not kept
    assert console.get(target).status_code == 200
    too_long = console.post("/console/reports/saved", data={**form, "steps": "x" * 4001}, follow_redirects=False)
    assert too_long.status_code == 400


def test_a_customer_segment_on_the_funnel_and_paths_pages(console: TestClient, sign_in: SignIn, engine: Engine) -> None:
    world = build(engine)
    source = world.sources["web-site"]
    with unit_of_work(engine) as session:  # P1, P3, P4 and P7 are premier (P7 began before the period)
        session.add_all([
            TraitValue(profile_id=world.person(p), name="segment", value_json='"premier"', value_hash="premier",
                       source_id=source, first_event_id=1, last_event_id=1, first_seen_at=T, last_seen_at=T,
                       times_seen=1)
            for p in ("P1", "P3", "P4", "P7")
        ])  # fmt: skip
    segments = parse_segments("premier:\n  title: Premier customers\n  traits: {segment: premier}\n", "s.yaml")
    console.app.state.dashboards.audience = Audience(segments, SurvivorshipConfig())  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
    sign_in("supervisor")
    query = {**QUERY, "segment": "premier"}
    funnel = console.get(f"/console/reports/funnels?{urlencode(query)}")
    assert funnel.status_code == 200
    assert '<option value="premier" selected>Premier customers</option>' in funnel.text
    rows = orjson.loads(console.get(f"/console/reports/funnels?{urlencode({**query, 'format': 'json'})}").content)
    assert [r["reached"] for r in rows if r["group"] is None] == [3, 2, 1, 1]
    assert "segment=premier" in funnel.text  # the people, paths and downloads keep it
    dropped = console.get(f"/console/reports/funnels/people?{urlencode({**query, 'step': 1, 'outcome': 'dropped'})}")
    assert f'href="/console/customers/{world.person("P4")}"' in dropped.text
    assert f'href="/console/customers/{world.person("P5")}"' not in dropped.text
    paths = orjson.loads(console.get(f"/console/reports/paths?{urlencode({**query, 'step': 1, 'format': 'json'})}")
                         .content)  # fmt: skip
    assert [(r["path"], r["people"]) for r in paths] == [("email: doc_reminder → case (phone)", 1)]
    assert console.get(f"/console/reports/funnels?{urlencode({**QUERY, 'segment': 'vip'})}").status_code == 400
