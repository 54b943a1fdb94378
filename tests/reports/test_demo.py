"""The demo bank's saved reports: a shared overview scheduled weekly for the CX team, a private one, and a shared
funnel with its steps."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.demo.reports import CX_TEAM, save_demo_reports
from seamline.demo.segments import install_segments, segment_traffic
from seamline.reports.service import saved_reports
from seamline.synthetic.people import generate_people
from seamline.triggers.segments import load_segments
from tests.support.builders import make_user


def test_the_demo_saves_a_shared_scheduled_report_and_a_private_one(engine: Engine) -> None:
    cora, sam = make_user(engine, "cora", "communications"), make_user(engine, "sam", "supervisor")
    with unit_of_work(engine) as session:
        assert save_demo_reports(session, cora) == 4
    with unit_of_work(engine, write=False) as session:
        mine = {s.name: s for s in saved_reports(session, cora)}
        theirs = [s.name for s in saved_reports(session, sam)]
    assert set(mine) == {
        "Monthly CX overview", "CX overview, premier customers", "Email, by product",
        "Online mortgage funnel, by channel",
    }  # fmt: skip
    [weekly] = mine["Monthly CX overview"].schedules
    assert (weekly.cadence, weekly.weekday, weekly.hour, weekly.recipients) == ("weekly", 0, 7, (CX_TEAM,))
    assert sorted(theirs) == [  # shared; not the private
        "CX overview, premier customers", "Monthly CX overview", "Online mortgage funnel, by channel",
    ]  # fmt: skip
    assert mine["CX overview, premier customers"].link == "/console/reports/overview?segment=premier"
    assert mine["Email, by product"].link == "/console/reports/overview?channel=email&split=product"
    funnel = mine["Online mortgage funnel, by channel"]
    assert funnel.link.startswith("/console/reports/funnels?")
    assert "Mortgage+Documents+Uploaded" in funnel.link
    assert "breakdown=channel" in funnel.link


def test_the_demo_segments_are_valid_and_named_by_the_demo_traffic(tmp_path: Path) -> None:
    assert install_segments(tmp_path)
    assert not install_segments(tmp_path)  # an operator's edits are kept
    segments = load_segments(tmp_path / "segments.yaml")
    assert {k: s.title for k, s in segments.items()} == {
        "premier": "Premier customers", "everyday": "Everyday banking customers",
    }  # fmt: skip
    people = generate_people(40, seed=3)
    told = segment_traffic(people, utcnow())
    assert len(told) == sum(1 for p in people if p.user_id)
    assert {m["traits"]["segment"] for _, m in told} == {"premier", "everyday"}
    assert all(source == "web" and m["type"] == "identify" for source, m in told)
