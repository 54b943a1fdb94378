"""The worker's set path (journeys/batch.py) and the per-event path the API uses (consumer.take_event) apply the
same rules: the same events, through each, leave the same instances and entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select

from seamline.core.db import unit_of_work
from seamline.core.pipeline import ResolvedEvent
from seamline.journeys import installed
from seamline.journeys.batch import Job, Stretch
from seamline.journeys.consumer import completing_events, take_event
from seamline.journeys.models import JourneyEntry, JourneyInstance
from tests.journeys.support import load_demo_definitions

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# A step that applies only for joint applicants: the set path must read the value its condition needs.
JOINT = """
journey: joint_loan
name: Joint loan
stall_after: 3d
abandon_after: 30d
steps:
  - key: who
    name: Who applies
    fields:
      - {key: applicants, required: true}
  - key: partner
    name: Your partner
    when: {field: applicants, equals: joint}
    fields:
      - {key: partner_name, required: true}
  - key: sign
    name: Sign
    fields:
      - {key: signed, required: true}
"""
MORTGAGE = "apply_for_mortgage"


def _track(n: int, profile: int, name: str, minutes: int, **props: Any) -> ResolvedEvent:
    payload = {"type": "track", "event": name, "properties": props, "context": {"channel": "web"}}
    at = T0 + timedelta(minutes=minutes)
    return ResolvedEvent(id=n, source_id=1, payload=payload, received_at=at, occurred_at=at, profile_id=profile)


def _first() -> list[ResolvedEvent]:
    return [
        _track(1, 1, "Journey Started", 0, journey=MORTGAGE, instance_id="ji_a"),
        _track(2, 1, "Journey Step Saved", 1, journey=MORTGAGE, step="about_you", first_name="Ann"),
        _track(3, 2, "Journey Started", 2, journey="activate_card"),
        _track(4, 2, "Journey Started", 3, journey="activate_card"),
        _track(5, 3, "Journey Step Completed", 4, journey="go_paperless", step="confirm_email", email="c@example.com"),
        _track(6, 4, "Journey Started", 5, journey=MORTGAGE, instance_id="ji_d"),
        _track(7, 4, "Journey Abandoned", 6, journey=MORTGAGE, instance_id="ji_d"),
        _track(8, 5, "Journey Step Completed", 7, journey="joint_loan", instance_id="ji_j", step="who",
               applicants="joint"),
    ]  # fmt: skip


def _second() -> list[ResolvedEvent]:
    return [
        _track(10, 1, "Journey Step Completed", 10, journey=MORTGAGE, step="about_you",
               first_name="Ann", last_name="Lee", email="ann@example.com", unknown="x"),
        _track(11, 1, "Journey Step Completed", 11, journey=MORTGAGE, instance_id="ji_a", step="property",
               fields={"property_value": 400000, "loan_amount": 300000}),
        _track(12, 1, "Journey Stalled", 5, journey=MORTGAGE, instance_id="ji_a"),  # a late notice: no change
        _track(13, 1, "Journey Step Completed", 13, journey=MORTGAGE, step="income", employer="Acme",
               annual_income=90000),
        _track(14, 1, "Income Verified", 14),  # a definition's completes_on: completes that step
        _track(15, 1, "Journey Stalled", 15, journey=MORTGAGE, instance_id="ji_a"),
        _track(16, 1, "Journey Step Saved", 16, journey=MORTGAGE, step="offer", offer_accepted=False),  # reopens
        _track(17, 1, "Mortgage Offer Accepted", 17),  # completes the journey
        _track(18, 1, "Journey Completed", 18, journey=MORTGAGE, instance_id="ji_a"),  # counted once
        _track(19, 1, "Journey Started", 19, journey=MORTGAGE),  # the last one is done: a new one begins
        _track(20, 2, "Journey Step Completed", 20, journey=MORTGAGE, instance_id="ji_a", step="property",
               property_value=1),  # another person's instance: nothing
        _track(21, 2, "Card Activated", 21),  # several open at once: none is meant
        _track(22, 2, "Journey Step Saved", 22, journey="activate_card", instance_id="ji_new", step="confirm_card",
               card_last4="4242"),
        _track(28, 2, "Journey Stalled", 1, journey="activate_card", instance_id="ji_new"),  # late: no change
        _track(23, 3, "Journey Step Saved", 23, journey="nobody_defined", step="x", a=1),
        _track(24, 3, "Journey Abandoned", 24, journey="go_paperless", instance_id="ji_missing"),
        _track(25, 3, "Journey Step Saved", 25, journey="go_paperless", step="no_such_step", email="c@x.com"),
        _track(26, 4, "Journey Step Saved", 26, journey=MORTGAGE, instance_id="ji_d", step="about_you",
               first_name="Dee"),  # abandoned, then active again
        _track(27, 4, "Journey Step Saved", 27, journey=MORTGAGE, step="about_you", last_name="Doe"),
        _track(29, 5, "Journey Step Completed", 29, journey="joint_loan", step="sign", signed=True),  # partner left
    ]  # fmt: skip


def _per_event(engine: Engine, events: list[ResolvedEvent]) -> None:
    with unit_of_work(engine) as session:
        definitions = installed.running_definitions(session)
        ends = completing_events(definitions)
        for event in events:
            name = str(event.payload["event"])
            take_event(session, definitions, ends, event, name, event.profile_id, "web")


def _as_set(engine: Engine, events: list[ResolvedEvent]) -> None:
    with unit_of_work(engine) as session:
        definitions = installed.running_definitions(session)
        ends = completing_events(definitions)
        stretch = Stretch(session, definitions)
        jobs = [Job.of(e, str(e.payload["event"]), e.profile_id, "web") for e in events]
        stretch.load(jobs)
        for job in jobs:
            stretch.apply(job, ends)
        stretch.write()


def _snapshot(engine: Engine) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with unit_of_work(engine, write=False) as session:
        rows = session.scalars(select(JourneyInstance).order_by(JourneyInstance.public_id)).all()
        public = {r.id: r.public_id for r in rows}
        instances = [
            (r.public_id, r.journey, r.profile_id, r.origin_profile_id, r.status, r.current_step, r.step_since,
             r.started_at, r.started_channel, r.last_activity_at, r.completed_at, r.quiet_since, r.event_id)
            for r in rows
        ]  # fmt: skip
        entries = [
            (public[e.instance_id], e.journey, e.step, e.kind, e.field, e.value_json, e.channel, e.device,
             e.actor_kind, e.actor, e.event_id, e.at, e.already_held, e.disagreed)
            for e in session.scalars(select(JourneyEntry).order_by(JourneyEntry.event_id, JourneyEntry.id))
        ]  # fmt: skip
    with unit_of_work(engine) as session:
        session.execute(delete(JourneyEntry))
        session.execute(delete(JourneyInstance))
    return instances, entries


def test_the_set_path_leaves_what_the_per_event_path_leaves(engine: Engine, tmp_path: Path) -> None:
    load_demo_definitions(engine)
    (tmp_path / "joint_loan.yaml").write_text(JOINT)
    with unit_of_work(engine) as session:
        installed.load_definitions(session, tmp_path, T0)
    _per_event(engine, _first())
    _per_event(engine, _second())
    one_by_one = _snapshot(engine)
    _as_set(engine, _first())
    _as_set(engine, _second())
    as_set = _snapshot(engine)

    assert as_set == one_by_one
    instances = {row[0]: row for row in as_set[0]}
    assert instances["ji_a"][4:6] == ("completed", None)
    assert instances["ji_d"][4] == "open"  # abandoned, then saved into again
    assert instances["ji_new"][2] == 2
    assert instances["ji_new"][4] == "open"
    assert instances["ji_j"][4:6] == ("open", "partner")  # joint, read back from the first batch
    assert sum(1 for row in as_set[0] if row[1] == "activate_card") == 3
    assert not any(e[0] == "ji_a" and e[10] == 20 for e in as_set[1])  # another person's event wrote nothing
