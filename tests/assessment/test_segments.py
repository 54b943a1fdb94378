"""Channel effectiveness by customer segment (the triggers' segments file, as the reports' filter reads it), on
both databases, against figures computed by hand from tests/assessment/ecosystem.py.

Profiles 1 and 2 are premier customers (their golden record says `segment: premier`), 3 is not, 4 and 5 say
nothing. Premier's messages: card notices c1 (delivered, opened, converted the next day) and c2 (delivered, opened,
clicked; activated three days later, outside the 2-day window); statements s1 and s2 (printed); promo p1 and p2
(p2 failed). Everyone else's: c3 (delivered), c4 (bounced; profile 4 phoned a day later), c5 (held); s3
(returned), s4 (printed; the same call, three days later).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.assessment.queries import OTHERS
from seamline.assessment.scope import scope_of
from seamline.assessment.service import Assessment
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.profiles.models import TraitValue
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.triggers.membership import Audience
from seamline.triggers.segments import parse_segments
from tests.assessment.ecosystem import T0, build
from tests.console.conftest import SignIn
from tests.support.builders import make_source

SEGMENTS = """
premier:
  title: Premier customers
  traits: {segment: premier}
"""


def _figures(rows: list[dict[str, object]]) -> dict[tuple[object, object, object], tuple[object, ...]]:
    keys = ("sent", "held", "delivery_rate", "open_rate", "click_rate", "conversion_rate", "failure_rate",
            "contacts_after_rate", "cost")  # fmt: skip
    return {(r["channel"], r["communication"], r["segment"]): tuple(r[k] for k in keys) for r in rows}


EXPECTED = {
    # (channel, communication, segment): sent, held, delivered, opened, clicked, converted, failed, contacted, cost
    ("email", "card_notice", "premier"): (2, 0, 1.0, 1.0, 0.5, 0.5, 0.0, 0.0, None),
    ("email", "card_notice", OTHERS): (2, 1, 0.5, 0.0, 0.0, 0.0, 0.5, 0.5, None),
    ("paper", "stmt", "premier"): (2, 0, 1.0, None, None, None, 0.0, 0.0, 1.6),
    ("paper", "stmt", OTHERS): (2, 0, 0.5, None, None, None, 0.5, 0.5, 1.6),
    ("sms", "promo-x", "premier"): (2, 0, 0.0, None, None, None, 0.5, 0.0, None),
}


def test_effectiveness_splits_every_row_into_a_segments_members_and_everyone_else(
    engine: Engine, tmp_path: Path
) -> None:
    assessment = build(engine, tmp_path)
    rows = assessment.effectiveness(segment="premier", members=frozenset({1, 2}))
    assert _figures([r.as_record() for r in rows]) == EXPECTED
    everyone = {(r.channel, r.communication): r.sent for r in assessment.effectiveness()}
    assert everyone == {("email", "card_notice"): 4, ("paper", "stmt"): 4, ("sms", "promo-x"): 2}
    nobody = assessment.effectiveness(segment="premier", members=frozenset())
    assert {r.segment for r in nobody} == {OTHERS}


def test_a_scoped_split_binds_the_period_and_the_contact_window_in_their_places(engine: Engine, tmp_path: Path) -> None:
    assessment = build(engine, tmp_path)
    december_3 = scope_of(since=date(2026, 12, 3), until=date(2026, 12, 3))  # the card notices and the promo only
    rows = assessment.effectiveness(december_3, segment="premier", members=frozenset({1, 2}))
    assert _figures([r.as_record() for r in rows]) == {k: v for k, v in EXPECTED.items() if k[1] != "stmt"}
    card = next(p for p in assessment.bottlenecks(december_3).paths if p.communication == "card_notice")
    assert (card.volume, card.contacts_after) == (5, 1)
    assert [r.communication for r in assessment.effectiveness(scope_of(since=T0.date(), product="none"))] == []


def _premier(engine: Engine, assessment: Assessment) -> Audience:
    source = make_source(engine, "rm-desk", "web")[0].id
    with unit_of_work(engine) as session:
        session.add_all([
            TraitValue(profile_id=p, name="segment", value_json=f'"{v}"', value_hash=v, source_id=source,
                       first_event_id=1, last_event_id=1, first_seen_at=T0, last_seen_at=T0, times_seen=1)
            for p, v in ((1, "premier"), (2, "premier"), (3, "everyday"))
        ])  # fmt: skip
    return Audience(parse_segments(SEGMENTS, "segments.yaml"), SurvivorshipConfig())


def test_the_api_splits_by_a_customer_segment_and_names_an_unknown_one(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    assessment = build(engine, tmp_path)
    audience = _premier(engine, assessment)
    with unit_of_work(engine) as session:
        key = create_api_key(session, "analyst", ["reports:read"])[1]
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings)) as client:
        client.app.state.assessment = assessment  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
        client.app.state.dashboards.audience = audience  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
        found = client.get("/v1/assessment/effectiveness", headers=headers, params={"segment": "premier"})
        assert found.status_code == 200, found.text
        assert _figures(found.json()) == EXPECTED
        unknown = client.get("/v1/assessment/effectiveness", headers=headers, params={"segment": "royals"})
        assert unknown.status_code == 400
        assert unknown.json()["error"]["errors"][0]["field"] == "segment"
        assert "premier" in unknown.text


def test_the_console_offers_the_segments_and_exports_the_split(
    console: TestClient, sign_in: SignIn, engine: Engine, tmp_path: Path
) -> None:
    assessment = build(engine, tmp_path)
    console.app.state.assessment = assessment  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
    console.app.state.dashboards.audience = _premier(engine, assessment)  # type: ignore[attr-defined]  # TestClient.app is typed as a bare ASGI app, without Starlette's state
    sign_in("analyst")
    page = console.get("/console/communications/effectiveness", params={"segment": "premier"}).text
    assert '<option value="premier" selected>Premier customers against everyone else</option>' in page
    assert "<td>Premier customers</td>" in page
    assert "segment=premier" in page  # the downloads keep the split
    table = console.get("/console/communications/export/effectiveness", params={"segment": "premier"}).text
    exported = list(csv.DictReader(io.StringIO(table)))
    assert {(r["communication"], r["segment"], r["sent"]) for r in exported} == {
        (k[1], k[2], str(v[0])) for k, v in EXPECTED.items()
    }
    data = console.get(
        "/console/communications/export/effectiveness", params={"segment": "premier", "format": "json"}
    ).json()
    assert _figures(data) == EXPECTED
    plain = console.get("/console/communications/effectiveness", params={"segment": "royals"}).text
    assert "<th>Segment</th>" not in plain  # an unknown segment: no split
