"""The demo bank's saved reports: a shared overview scheduled weekly for the CX team, a private one, and a shared
funnel with its steps."""

from __future__ import annotations

from sqlalchemy import Engine

from seamline.core.db import unit_of_work
from seamline.demo.reports import CX_TEAM, save_demo_reports
from seamline.reports.service import saved_reports
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
