"""The stall scan with a controllable clock, run by the worker's schedule: quiet journeys stall, then are
abandoned; each change is one `Journey Stalled`/`Journey Abandoned` event in the inbox; each due item fires once."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.jobs import claim_due
from seamline.journeys import actions, service
from seamline.pipeline.registry import Pipeline
from seamline.worker.schedule import Job, Schedule, default_jobs
from tests.journeys.support import load_demo_definitions
from tests.support.flows import drain

JOB = "journeys.stall_scan"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _stall_scan(settings: Settings) -> list[Job]:
    """The worker's stall-scan job alone (its other jobs answer for themselves in their own tests)."""
    return [job for job in default_jobs(settings) if job.name == JOB]


def _journey_events(engine: Engine) -> list[tuple[str, str, dict[str, object]]]:
    query = text("SELECT s.name, e.payload FROM inbox_events e JOIN sources s ON s.id = e.source_id ORDER BY e.id")
    with engine.connect() as conn:
        rows = [(name, orjson.loads(payload)) for name, payload in conn.execute(query)]
    return [
        (n, p["event"], p["properties"]) for n, p in rows if p.get("event") in ("Journey Stalled", "Journey Abandoned")
    ]


def _status(engine: Engine, public_id: str) -> str:
    with unit_of_work(engine, write=False) as session:
        return service.instance(session, public_id).status


def test_quiet_journeys_stall_then_are_abandoned_once(engine: Engine, settings: Settings) -> None:
    load_demo_definitions(engine)
    pipeline = Pipeline(settings.identity, settings.consent, settings.traits)
    with unit_of_work(engine) as session:
        began = actions.start(session, pipeline, "go_paperless", {"userId": "u-kim"}, actions.Actor("web"))
        public_id = began.public_id
        busy = actions.start(session, pipeline, "activate_card", {"userId": "u-kim"}, actions.Actor("web")).public_id
    start = utcnow()
    clock = Clock(start + timedelta(hours=12))
    schedule = Schedule(engine, _stall_scan(settings), clock=clock)
    assert schedule.run_due() == {JOB: 0}  # nothing quiet long enough yet
    assert _status(engine, public_id) == "open"

    clock.now = start + timedelta(days=2, minutes=5)  # go_paperless stalls after 2 days; activate_card after 1
    assert schedule.run_due() == {JOB: 2}
    assert schedule.run_due() == {}  # not due again until a minute later
    assert _status(engine, public_id) == "stalled"
    stalled = _journey_events(engine)
    assert sorted((src, name, p["journey"], p["step"]) for src, name, p in stalled) == [
        ("seamline", "Journey Stalled", "activate_card", "confirm_card"),
        ("seamline", "Journey Stalled", "go_paperless", "confirm_email"),
    ]
    assert {p["instance_id"] for _, _, p in stalled} == {public_id, busy}

    # Another worker, at the same moment: the item was fired; it does not fire again.
    other = Schedule(engine, _stall_scan(settings), clock=clock)
    assert other.run_due() == {}
    # The worker takes the stall events like any other; the status holds.
    drain(engine, settings)
    assert _status(engine, public_id) == "stalled"

    # The customer comes back: the journey is open again; quiet again long enough, it is abandoned.
    with unit_of_work(engine) as session:
        actions.save(session, pipeline, public_id, "confirm_email", {"email": "kim@example.com"}, actions.Actor("web"),
                     complete=False)  # fmt: skip
    assert _status(engine, public_id) == "open"
    clock.now = utcnow() + timedelta(days=15)
    assert schedule.run_due() == {JOB: 2}
    assert _status(engine, public_id) == "abandoned"
    assert [n for _, n, p in _journey_events(engine) if p["instance_id"] == public_id] == [
        "Journey Stalled",
        "Journey Abandoned",
    ]


def test_a_due_item_held_by_one_worker_is_skipped_by_another(engine: Engine, settings: Settings) -> None:
    if engine.dialect.name != "postgresql":
        return  # SQLite's one write lock makes the other worker wait instead: the same single firing
    load_demo_definitions(engine)
    clock = Clock(utcnow())
    first = Schedule(engine, _stall_scan(settings), clock=clock)
    assert first.run_due() == {JOB: 0}
    clock.now += timedelta(minutes=5)
    with unit_of_work(engine) as holder:
        assert claim_due(holder, JOB, clock.now) is not None  # a worker is running the job right now
        second = Schedule(engine, _stall_scan(settings), clock=clock)
        assert second.run_due() == {}  # skipped without waiting for the lock
    assert first.run_due() == {JOB: 0}  # the holder ended without running it: still due, fired once
