"""Triggers on the real pipeline, both databases: a journey stall gets a reminder the next day and a task for a
person after the second stall; a purchase ends a nudge sequence; moments that matter make tasks; a step after a
journey step tells the customer what happens next."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.pipeline import ResolvedBatch, ResolvedEvent
from seamline.destinations.service import create_destination
from seamline.ingestion.service import append_processed
from seamline.pipeline.service import process_events
from seamline.privacy.service import complete_access, erase_profile, open_request
from seamline.tasks.service import tasks_of
from tests.triggers.world import START, World, rule_folder

STALL_REMINDER = """
name: journey-stall-reminder
description: A stalled application gets a reminder the next day, unless the customer goes on first.
on:
  event: Journey Stalled
  where: {journey: mortgage-application}
once: "{instance_id}"
exit:
  - {event: Journey Step Completed, same: instance_id}
  - {event: Journey Completed, same: instance_id}
do:
  send: journey_reminder
  data: {first_name: "{traits.first_name}", journey: mortgage application, step: "{step}"}
  delay: 1d
"""
SECOND_STALL = """
name: journey-second-stall
on:
  event: Journey Stalled
  where: {journey: mortgage-application}
count: {at_least: 2, within: 30d, by: instance_id}
once: "{instance_id}"
do:
  task:
    title: "Call {traits.first_name}: mortgage application stalled twice at {step}"
    queue: mortgages
    skills: [mortgages, affordability]
    priority: high
"""


@pytest.fixture
def world(engine: Engine, settings: Settings, tmp_path: Path) -> World:
    return World(engine, settings, rule_folder(tmp_path, {"reminder": STALL_REMINDER, "second": SECOND_STALL}))


def test_a_stall_gets_a_reminder_the_next_day_and_the_second_stall_a_task_for_a_person(world: World) -> None:
    world.customer("u-1", "Ada")
    stall = {"journey": "mortgage-application", "step": "income", "instance_id": "ji-1"}
    world.send("u-1", "Journey Stalled", stall)
    assert world.communications("u-1") == []  # nothing at once: the reminder waits a day
    assert world.run_due(START + timedelta(hours=23)) == 0
    assert world.run_due(START + timedelta(days=1, minutes=1)) == 1
    [reminder] = world.communications("u-1")
    assert reminder.template == "journey_reminder"
    assert reminder.fields == {"first_name": "Ada", "journey": "mortgage application", "step": "income"}
    assert world.tasks() == []  # one stall is for automation

    world.now = START + timedelta(days=2)
    world.send("u-1", "Journey Stalled", stall)
    [task] = world.tasks()
    assert task.title == "Call Ada: mortgage application stalled twice at income"
    assert (task.queue, task.skills, task.priority) == ("mortgages", ("affordability", "mortgages"), "high")
    assert task.rule == "journey-second-stall"
    assert task.journey_instance_id == "ji-1"
    assert task.communication_ids == (reminder.communication_id,)  # the person sees what was already said
    assert task.context["properties"]["step"] == "income"
    assert task.due_at > world.now
    # The reminder fires once per application: the second stall sends no second reminder.
    world.run_due(START + timedelta(days=4))
    assert len(world.communications("u-1")) == 1


def test_going_on_before_the_reminder_is_due_cancels_it_and_other_applications_are_their_own(world: World) -> None:
    world.customer("u-2")
    world.send("u-2", "Journey Stalled", {"journey": "mortgage-application", "step": "income", "instance_id": "a"})
    world.send("u-2", "Journey Stalled", {"journey": "mortgage-application", "step": "income", "instance_id": "b"})
    world.now = START + timedelta(hours=3)
    world.send(
        "u-2", "Journey Step Completed", {"journey": "mortgage-application", "step": "income", "instance_id": "a"}
    )
    assert world.run_due(START + timedelta(days=2)) == 1
    [sent] = world.communications("u-2")
    statuses = sorted((s.status, s.result or "") for s in world.steps("u-2"))
    assert statuses[0] == ("cancelled", "exit: Journey Step Completed")
    assert statuses[1] == ("done", sent.communication_id)
    assert world.tasks() == []  # two applications stalled once each is not two stalls of one


NUDGES = """
name: cart-nudges
on: {event: Cart Abandoned}
once_every: 30d
exit: [Order Completed]
do:
  - send: account_notice
    data: {first_name: "{traits.first_name}", change: "your basket is saved."}
    delay: 1d
  - send: account_notice
    data: {first_name: "{traits.first_name}", change: "your basket is still saved."}
    delay: 3d
"""


def test_a_purchase_ends_a_nudge_sequence(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"nudges": NUDGES}))
    world.customer("u-3")
    world.send("u-3", "Cart Abandoned", {"cart_id": "c-1"})
    assert world.run_due(START + timedelta(days=1, hours=1)) == 1
    world.now = START + timedelta(days=2)
    world.send("u-3", "Order Completed", {"order_id": "o-1"})
    world.run_due(START + timedelta(days=5))
    [first] = world.communications("u-3")
    assert first.fields["change"] == "your basket is saved."
    assert [s.status for s in world.steps("u-3")] == ["cancelled", "done"]


MOMENTS = {
    "third-complaint": """
name: third-complaint-in-30-days
on: {event: Complaint Filed}
count: {at_least: 3, within: 30d}
once_every: 30d
do:
  task: {title: "Third complaint in 30 days: call back", queue: retention, skills: [complaints], priority: high}
""",
    "vulnerable-payment": """
name: failed-payment-vulnerable
on:
  event: Payment Failed
  traits: {vulnerable: true}
do:
  task: {title: "Failed payment of a vulnerable customer", queue: vulnerable-customers, priority: urgent}
""",
    "next-step": """
name: next-step-after-income
on:
  event: Journey Step Completed
  where: {journey: mortgage-application, step: income}
once: "{instance_id}"
do:
  send: journey_next_step
  data: {first_name: "{traits.first_name}", step: income details, next_step: an underwriter checks them,
         expected: within 2 working days}
""",
}


def test_moments_that_matter_make_tasks_and_a_step_is_followed_by_what_happens_next(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, MOMENTS))
    world.customer("u-4")
    for day in (0, 20, 40):  # never three within 30 days
        world.now = START + timedelta(days=day)
        world.send("u-4", "Complaint Filed", {"case_id": 7})
    assert world.tasks() == []
    world.now = START + timedelta(days=45)  # days 20, 40 and 45
    world.send("u-4", "Complaint Filed", {"case_id": 9})
    [complaint] = world.tasks()
    assert (complaint.queue, complaint.case_id) == ("retention", 9)

    world.customer("u-5")
    world.send("u-5", traits={"vulnerable": True})
    world.send("u-5", "Payment Failed", {"amount": 120})
    world.send("u-4", "Payment Failed", {"amount": 120})  # not vulnerable: for automation
    assert [t.queue for t in world.tasks()] == ["vulnerable-customers", "retention"]  # soonest due first

    world.send(
        "u-5", "Journey Step Completed", {"journey": "mortgage-application", "step": "income", "instance_id": "x"}
    )
    [told] = world.communications("u-5")  # at once: no delay
    assert told.template == "journey_next_step"
    assert told.fields["next_step"] == "an underwriter checks them"
    assert told.channel == "email"


def test_replays_fire_nothing_and_erasure_removes_the_persons_tasks_and_trigger_rows(world: World) -> None:
    world.customer("u-6")
    stall = {"journey": "mortgage-application", "step": "income", "instance_id": "z"}
    world.send("u-6", "Journey Stalled", stall)
    profile = world.profile("u-6")
    replay = ResolvedBatch(
        [ResolvedEvent(1, world.source.id, {"type": "track", "event": "Journey Stalled", "properties": stall},
                       START, START, profile)], [], is_replay=True)  # fmt: skip
    with unit_of_work(world.engine) as session:
        assert world.triggers.take(session, replay) == 0
    world.send("u-6", "Journey Stalled", stall)
    assert len(world.tasks()) == 1
    with unit_of_work(world.engine) as session:
        access = open_request(session, "access", profile, requested_by="dpo")
        export = complete_access(session, access.id)
    assert [t["rule"] for t in export["tasks"]] == ["journey-second-stall"]
    with unit_of_work(world.engine) as session:
        request = open_request(session, "erasure", profile, requested_by="dpo")
        erase_profile(session, request.id)
    with unit_of_work(world.engine, write=False) as session:
        assert tasks_of(session, [profile]) == []
    assert world.steps(profile) == []


BEREAVEMENT = """
name: bereavement-notice
on: {event: Bereavement Notified}
do:
  task: {title: "Bereavement notice", queue: bereavement, priority: urgent}
"""


def test_a_batch_rolled_back_fires_again_when_retried_and_only_once(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"bereavement": BEREAVEMENT}))
    world.customer("u-7")
    message = {"type": "track", "messageId": "retry-1", "userId": "u-7", "event": "Bereavement Notified",
               "timestamp": START.isoformat()}  # fmt: skip

    def failing_batch() -> None:
        with unit_of_work(engine) as session:
            items = append_processed(session, world.source.id, [message])
            process_events(session, items, world.pipeline)
            raise RuntimeError("the batch fails after the rule fired: nothing of it is committed")

    with pytest.raises(RuntimeError):
        failing_batch()
    assert world.tasks() == []
    world.process([message])  # the retry
    world.process([{**message, "messageId": "retry-2"}])  # a second notice: the rule fired for this person already
    assert [t.title for t in world.tasks()] == ["Bereavement notice"]


SOURCES = {
    "flagged": """
name: flagged-vulnerable
on:
  trait: vulnerable
  where: {value: true}
do:
  call: crm
  data: {reason: vulnerable}
""",
    "card": """
name: card-opened
on:
  holding: credit_card
  where: {status: active}
do:
  task: {title: "Welcome call for the new card {id}", queue: cards}
""",
}


def test_a_trait_change_calls_a_destination_and_a_holding_makes_a_task(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, SOURCES))
    with unit_of_work(engine) as session:
        create_destination(session, "crm", "https://crm.example/hooks", purpose="analytics",
                           subscriptions=["profile.erased"], consent=settings.consent)  # fmt: skip
    world.customer("u-8")
    world.send("u-8", traits={"vulnerable": False})
    world.send("u-8", traits={"vulnerable": True})
    card = {"holding_type": "credit_card", "status": "active"}
    world.process([{"type": "group", "messageId": "g-1", "userId": "u-8", "groupId": "CARD-42", "traits": card,
                    "timestamp": START.isoformat()}])  # fmt: skip
    [called] = [s for s in world.steps("u-8") if s.action == "call"]
    assert (called.status, called.target) == ("done", "crm")
    with engine.connect() as conn:
        [payload] = conn.execute(text("SELECT payload FROM outbox_messages WHERE target = 'destination:crm'")).scalars()
    body = (orjson.loads(payload) if isinstance(payload, str) else payload)["body"]
    assert (body["type"], body["data"]["rule"], body["data"]["data"]) == (
        "trigger.fired",
        "flagged-vulnerable",
        {"reason": "vulnerable"},
    )
    [task] = world.tasks()
    assert task.title == "Welcome call for the new card CARD-42"


def test_a_task_follows_its_customer_into_a_merge(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"bereavement": BEREAVEMENT}))
    world.customer("u-9")
    at = START.isoformat()
    world.process([{"type": "track", "messageId": "anon-1", "anonymousId": "visitor-9", "event": "Bereavement Notified",
                    "timestamp": at}])  # fmt: skip
    [task] = world.tasks()
    world.process([{"type": "identify", "messageId": "link-1", "anonymousId": "visitor-9", "userId": "u-9",
                    "timestamp": at}])  # fmt: skip
    with unit_of_work(engine, write=False) as session:
        assert [t.id for t in tasks_of(session, [world.profile("u-9")])] == [task.id]
