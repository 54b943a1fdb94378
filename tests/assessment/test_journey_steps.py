"""Journeys' slowest steps and where people stop, by hand on four card activations, and how the communications
assessment ranks them among its bottlenecks (API, console, `seamline assess`)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.assessment.bottlenecks import STOPS
from seamline.assessment.scope import Scope
from seamline.assessment.service import Assessment
from seamline.cli import app as cli
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.demo.bank import demo_people
from seamline.demo.journey_history import journey_history
from seamline.demo.sources import create_demo_sources
from seamline.journeys.models import JourneyEntry, JourneyInstance
from seamline.journeys.steptimes import step_times
from seamline.worker.schedule import Schedule, default_jobs
from tests.console.conftest import SignIn
from tests.journeys.support import load_demo_definitions
from tests.support.flows import drain, send

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _instance(public_id: str, status: str, step: str | None, done: dict[str, datetime]) -> JourneyInstance:
    last = max(done.values(), default=T0)
    return JourneyInstance(
        public_id=public_id, journey="activate_card", profile_id=1, origin_profile_id=1, status=status,
        current_step=step, step_since=last, started_at=T0, started_channel="web", last_activity_at=last,
        completed_at=last if status == "completed" else None, quiet_since=None, joined_into=None, event_id=0,
    )  # fmt: skip


def _plant(engine: Engine) -> None:
    """A: both steps (1 h, then 10 min); B: the card in 3 h, then stalled at the PIN; C: abandoned at the card;
    D: at the card now."""
    load_demo_definitions(engine)
    planted = {
        "a": ("completed", None, {"confirm_card": T0 + HOUR, "set_pin": T0 + HOUR + timedelta(minutes=10)}),
        "b": ("stalled", "set_pin", {"confirm_card": T0 + 3 * HOUR}),
        "c": ("abandoned", "confirm_card", {}),
        "d": ("open", "confirm_card", {}),
    }
    with unit_of_work(engine) as session:
        for public_id, (status, step, done) in planted.items():
            row = _instance(public_id, status, step, done)
            session.add(row)
            session.flush()
            for key, at in done.items():
                session.add(
                    JourneyEntry(
                        instance_id=row.id, journey="activate_card", step=key, kind="step", channel="web",
                        actor_kind="customer", event_id=0, at=at,
                    )
                )  # fmt: skip


def test_step_times_are_measured_from_the_step_becoming_current(engine: Engine) -> None:
    _plant(engine)
    with unit_of_work(engine, write=False) as session:
        found = {t.step: t for t in step_times(session)}
        later = step_times(session, since=T0 + 2 * HOUR)  # only B's card completion is in this period
    card, pin = found["confirm_card"], found["set_pin"]
    assert (card.completed, card.p50_seconds, card.p95_seconds) == (2, 3600.0, 10800.0)  # A 1 h, B 3 h
    assert (card.waiting, card.stalled, card.abandoned, card.reached) == (1, 0, 1, 4)
    assert (pin.completed, pin.p50_seconds, pin.p95_seconds) == (1, 600.0, 600.0)  # from A's card to its PIN
    assert (pin.waiting, pin.stalled, pin.abandoned) == (0, 1, 0)
    assert (card.journey_name, card.step_name) == ("Activate a card", "Confirm the card")
    assert [(t.step, t.completed, t.p50_seconds) for t in later] == [("confirm_card", 1, 10800.0), ("set_pin", 0, None)]


def test_the_assessment_ranks_the_slowest_step_first_and_names_where_people_stop(
    engine: Engine, tmp_path: Path
) -> None:
    _plant(engine)
    reports = Assessment(engine, Catalog(tmp_path), step_times=step_times)
    found = reports.bottlenecks()
    assert [s.step for s in found.steps] == ["Confirm the card (confirm_card)", "Set the PIN (set_pin)"]
    stops = [b for b in found.breaks if b.kind == STOPS]
    assert [(b.where, b.messages, b.share) for b in stops] == [
        ("Activate a card (activate_card) → Confirm the card (confirm_card)", 1, 0.25),
        ("Activate a card (activate_card) → Set the PIN (set_pin)", 1, 0.5),
    ]
    assert stops[1].sentence.startswith("1 of 2 journeys that reached Set the PIN (set_pin) in Activate a card")
    assert "1 stalled" in stops[1].sentence
    assert reports.bottlenecks(Scope(product="cards")).steps == ()  # journeys have no product


def test_the_api_the_console_and_assess_show_the_steps(
    engine: Engine, settings: Settings, console: TestClient, sign_in: SignIn, tmp_path: Path
) -> None:
    """The app and the CLI wire the journeys' step times into the assessment (nothing injected here)."""
    _plant(engine)
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "analyst", ["reports:read"])
    with TestClient(create_app(settings)) as client:
        found = client.get("/v1/assessment/bottlenecks", headers={"Authorization": f"Bearer {key}"}).json()
    assert [(s["step"], s["completed"], s["p95_seconds"]) for s in found["steps"]] == [
        ("Confirm the card (confirm_card)", 2, 10800.0), ("Set the PIN (set_pin)", 1, 600.0),
    ]  # fmt: skip
    assert {b["kind"] for b in found["breaks"]} == {STOPS}
    sign_in("analyst")
    page = console.get("/console/communications/bottlenecks").text
    assert "the slowest steps and where people stop" in page
    cells = [" ".join(row.split()) for row in page.split("<tr>")[-2:]]
    assert cells[0].startswith(
        "<td>Activate a card (activate_card)</td><td>Confirm the card (confirm_card)</td><td>2</td> "
        "<td>60 min · 3.0 h</td><td>1</td><td>0</td><td>1</td>"
    )
    rows = list(csv.DictReader(io.StringIO(console.get("/console/communications/export/journey_steps").text)))
    assert [(r["step"], r["stalled"]) for r in rows] == [
        ("Confirm the card (confirm_card)", "0"), ("Set the PIN (set_pin)", "1"),
    ]  # fmt: skip
    env = {"SEAMLINE_DATABASE_URL": settings.database_url, "SEAMLINE_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(cli, ["assess", "--out", str(tmp_path / "steering")], env=env)
    assert result.exit_code == 0, result.output
    assert "journey-steps: 2 rows" in result.stdout
    written = orjson.loads((tmp_path / "steering" / "journey-steps.json").read_bytes())
    assert [r["abandoned"] for r in written] == [1, 0]


def test_the_demo_banks_journey_history_shows_slow_steps_and_where_people_stop(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    """Weeks of demo journeys through the tracking API and the worker, then the worker's stall scan: every step
    has its times, and people stopped at several steps (the first picture an analyst sees)."""
    load_demo_definitions(engine)
    with unit_of_work(engine) as session:
        keys = create_demo_sources(session)
    now = datetime(2026, 12, 5, tzinfo=UTC)
    traffic = journey_history(demo_people(400), now)
    for source in {s for s, _ in traffic}:
        mine = [m for s, m in traffic if s == source]
        for i in range(0, len(mine), 100):
            send(client, keys[source], *mine[i : i + 100])
    drain(engine, settings)
    scan = [job for job in default_jobs(settings) if job.name == "journeys.stall_scan"]
    Schedule(engine, scan, clock=lambda: now + timedelta(hours=1)).run_due()
    with unit_of_work(engine, write=False) as session:
        steps = {(t.journey, t.step): t for t in step_times(session)}
    done = {
        ("activate_card", "confirm_card"), ("activate_card", "set_pin"),
        ("apply_for_mortgage", "about_you"), ("apply_for_mortgage", "property"), ("apply_for_mortgage", "income"),
    }  # fmt: skip
    assert set(steps) == {*done, ("apply_for_mortgage", "income_documents")}  # the apps report no uploads: all wait
    assert all(steps[key].completed for key in done)
    assert steps[("apply_for_mortgage", "income_documents")].completed == 0
    slow, quick = (
        steps[("apply_for_mortgage", "income")].p50_seconds,
        steps[("apply_for_mortgage", "about_you")].p50_seconds,
    )
    assert slow is not None
    assert quick is not None
    assert slow > 10 * quick  # income takes days, about you minutes
    stopped = {key for key, t in steps.items() if t.stalled + t.abandoned}
    assert len(stopped) >= 3
    assert sum(t.abandoned for t in steps.values()) > 0  # weeks ago: abandoned, not only stalled
