"""Saved reports (private or shared, seen only by roles that may open the report) and a scheduled report run by
the worker's schedule and delivered to a real SMTP server through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from seamline.communications.config import EmailConfig
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput, NotFound
from seamline.core.principal import Principal
from seamline.outbox.config import OutboxConfig
from seamline.reports import service
from seamline.reports.filters import Filters
from seamline.users.service import UserView, disable_user
from seamline.worker.dispatcher import build_dispatcher
from seamline.worker.schedule import Schedule, reports_schedules
from tests.reports.world import DECEMBER, build
from tests.support.builders import make_user
from tests.support.smtp import smtp_server

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
CLI = Principal(name="cli:test", kind="operator", scopes=frozenset(), surface="cli")


def _save(engine: Engine, user: UserView, name: str, report: str = "overview", *, shared: bool = False) -> int:
    with unit_of_work(engine) as session:
        return service.save_report(session, user, name, report, DECEMBER, shared=shared, now=NOW).id


def _names(engine: Engine, user: UserView) -> list[str]:
    with unit_of_work(engine, write=False) as session:
        return [s.name for s in service.saved_reports(session, user)]


def test_private_and_shared_saved_reports(engine: Engine) -> None:
    ann, bob, sue = (
        make_user(engine, "ann", "analyst"),
        make_user(engine, "bob", "analyst"),
        make_user(engine, "sue", "supervisor"),
    )
    mine = _save(engine, ann, "Monday numbers")
    _save(engine, ann, "For the team", shared=True)
    _save(engine, ann, "Comms deep dive", "assessment", shared=True)
    assert _names(engine, ann) == ["Comms deep dive", "For the team", "Monday numbers"]
    assert _names(engine, bob) == ["Comms deep dive", "For the team"]  # another's private report is not listed
    assert _names(engine, sue) == ["For the team"]  # a supervisor may not open the assessment
    with unit_of_work(engine, write=False) as session:
        with pytest.raises(NotFound):
            service.saved_report(session, bob, mine)
        found = service.saved_report(session, ann, mine)
    assert found.link == "/console/reports/overview?since=2026-11-01&until=2026-12-31"
    assert found.filters == DECEMBER
    with unit_of_work(engine) as session:
        with pytest.raises(NotFound):
            service.delete_saved_report(session, bob, mine)  # only its owner deletes it
        again = service.save_report(session, ann, "Monday numbers", "overview", Filters(), shared=False, now=NOW)
    assert again.id == mine
    assert again.filters == Filters()
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as refused:
        service.save_report(session, sue, "", "assessment", Filters(), shared=False, now=NOW)
    assert [e.field for e in refused.value.errors] == ["name", "report"]


def test_a_schedule_refuses_bad_input_naming_each_field(engine: Engine) -> None:
    ann = make_user(engine, "ann", "analyst")
    saved, deep = _save(engine, ann, "Weekly"), _save(engine, ann, "Deep", "assessment")
    with unit_of_work(engine) as session:
        with pytest.raises(InvalidInput) as refused:
            service.schedule_report(
                session, ann, saved, ["ok@bank.example", "not an address"], "weekly", 24, 9, now=NOW, max_recipients=5
            )
        assert [(e.field, e.index) for e in refused.value.errors] == [
            ("recipients", 1),
            ("hour", None),
            ("weekday", None),
        ]
        with pytest.raises(InvalidInput) as not_a_dashboard:
            service.schedule_report(
                session, ann, deep, ["ok@bank.example"], "daily", 7, None, now=NOW, max_recipients=5
            )
        assert [e.field for e in not_a_dashboard.value.errors] == ["report"]


def test_a_scheduled_report_is_emailed_through_the_outbox_by_the_worker_schedule(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    build(engine, tmp_path)
    ann = make_user(engine, "ann", "analyst", name="Ann Analyst")
    saved = _save(engine, ann, "CX weekly")
    with unit_of_work(engine) as session:
        planned = service.schedule_report(
            session, ann, saved, ["cx-team@bank.example", "Head.Of.CX@bank.example"], "daily", 7, None, now=NOW,
            max_recipients=5,
        )  # fmt: skip
    assert planned.next_run_at == datetime(2026, 12, 6, 7, tzinfo=UTC)
    world = settings.model_copy(update={"email": EmailConfig(templates_dir=tmp_path / "templates")})
    job = reports_schedules(world)
    assert Schedule(engine, [job], clock=lambda: NOW).run_due() == {"reports.schedules": 0}  # not due yet
    at_seven = datetime(2026, 12, 6, 7, 0, 5, tzinfo=UTC)
    assert Schedule(engine, [job], clock=lambda: at_seven).run_due() == {"reports.schedules": 2}
    assert Schedule(engine, [job], clock=lambda: at_seven).run_due() == {}  # the job is not due again so soon
    with smtp_server() as (mailbox, port):
        mail = world.model_copy(
            update={"email": EmailConfig(smtp_port=port), "outbox": OutboxConfig(retry_schedule_seconds=[0.0])}
        )
        dispatcher = build_dispatcher(engine, mail, unsubscribe_url=None)
        try:
            dispatcher.drain()
        finally:
            dispatcher.stop()
    reports = [m for m in mailbox.messages if m["Subject"].startswith("CX weekly")]  # the world errors notify too
    assert sorted(m["To"] for m in reports) == ["Head.Of.CX@bank.example", "cx-team@bank.example"]
    message = reports[0]
    assert message["Subject"] == "CX weekly: CX overview, 2026-12-06"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]  # the message sent above has this part
    assert "email | 5 | 4 | 1" in text  # volumes by channel: messages, sent, held
    assert "marketing | email | 1 | 2 | 2 | 20.0%" in text  # consent coverage
    assert "CSAT, NPS and CES" in text
    assert "week | survey | score | answers" in text  # the survey scores (none answered in this world)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]  # the message sent above has this part
    assert '<td style="padding: 2px 6px">75.0%</td>' in html
    with unit_of_work(engine, write=False) as session:
        [again] = service.saved_report(session, ann, saved).schedules
    assert again.next_run_at == datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert again.last_outcome == "queued for 2 recipient(s)"


def test_a_schedule_whose_owner_was_disabled_sends_nothing(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    build(engine, tmp_path)
    ann = make_user(engine, "ann", "analyst")
    saved = _save(engine, ann, "CX weekly")
    with unit_of_work(engine) as session:
        service.schedule_report(session, ann, saved, ["cx@bank.example"], "daily", 7, None, now=NOW, max_recipients=5)
        disable_user(session, "ann", actor=CLI)
    later = datetime(2026, 12, 6, 8, tzinfo=UTC)
    assert Schedule(engine, [reports_schedules(settings)], clock=lambda: later).run_due() == {"reports.schedules": 0}
    with unit_of_work(engine, write=False) as session:
        [schedule] = service.saved_report(session, ann, saved).schedules
    assert schedule.last_outcome == "not sent: its owner's account is disabled or gone"


def test_a_saved_link_keeps_any_product_name_whole(engine: Engine) -> None:
    ann = make_user(engine, "ann", "analyst")
    with unit_of_work(engine) as session:
        saved = service.save_report(
            session, ann, "A&B", "overview", Filters(product="Loans & Cards"), shared=False, now=NOW
        )
    assert saved.link == "/console/reports/overview?product=Loans+%26+Cards"
