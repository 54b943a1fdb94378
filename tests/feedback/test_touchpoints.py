"""The other touchpoints: a completed journey (its step in the snapshot) and a delivered message (its type), each
through a trigger rule, and the rollups by journey step and communication type they feed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from seamline.communications.config import BUILTIN_DIR
from seamline.communications.service import queue_message
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.demo.journeys import load_demo_journeys
from seamline.feedback import repository
from seamline.feedback.rollups import rollup
from seamline.feedback.service import AnswerInput, record_answer
from seamline.journeys import actions
from tests.feedback.world import FeedbackWorld
from tests.triggers.world import rule_folder

AFTER_A_JOURNEY = """
name: nps-after-journey
on: {event: Journey Step Completed, where: {journey: activate_card, step: set_pin}}
once: "{instance_id}"
do: {survey: nps_journey}
"""
AFTER_A_MESSAGE = """
name: ces-after-notice
on: {event: Communication Delivered}
once: "{communication_id}"
do: {survey: ces_message, data: {channel: email}}
"""


def test_a_completed_journey_and_a_delivered_message_are_surveyed_with_what_they_were(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    folder = rule_folder(tmp_path, {"journey": AFTER_A_JOURNEY, "message": AFTER_A_MESSAGE})
    world = FeedbackWorld(engine, settings, folder)
    settings.feedback.cooldown_days = 0  # both touchpoints of one person, one after the other
    world.now = utcnow()  # the journey API stamps its events with the real time
    load_demo_journeys(engine)
    world.customer("u-1", first_name="Ada")
    phone = actions.Actor("mobile", "phone")
    with unit_of_work(engine) as session:
        row = actions.start(session, world.pipeline, "activate_card", {"userId": "u-1"}, phone)
        actions.save(session, world.pipeline, row.public_id, "confirm_card", {"card_last4": "1234"}, phone,
                     complete=True)  # fmt: skip
        actions.save(session, world.pipeline, row.public_id, "set_pin", {"pin_set": True}, phone, complete=True)
    world.drain()  # the saves' events, left for the worker, reach the rules there
    world.run_due(utcnow() + timedelta(seconds=1))  # the step waits for its event's own time
    with unit_of_work(engine) as session:
        notice, _ = queue_message(session, world.profile("u-1"), "account_notice",
                                  {"first_name": "Ada", "change": "new fees"}, catalog=Catalog(BUILTIN_DIR),
                                  consent=settings.consent)  # fmt: skip
    world.send("u-1", "Communication Delivered", {"communication_id": notice.communication_id})

    invited = {s.target: s for s in world.steps("u-1")}
    assert set(invited) == {"nps_journey", "ces_message"}
    assert {(s.status, (s.result or "")[:4]) for s in invited.values()} == {("done", "msg_")}, invited
    with unit_of_work(engine) as session:
        rows = repository.invitations_of(session, [world.profile("u-1")], 10)
        by_survey = {r.survey: r for r in rows}
        journey = by_survey["nps_journey"].snapshot["journey"]
        message = by_survey["ces_message"].snapshot["communication"]
        assert (journey["journey"], journey["instance_id"], journey["status"]) == ("activate_card", row.public_id,
                                                                                   "completed")  # fmt: skip
        assert (message["type"], message["template"]) == ("notice", "account_notice")
        for survey, score in (("nps_journey", 3), ("ces_message", 6)):
            answer = AnswerInput(survey, score, invitation_id=by_survey[survey].id)
            record_answer(session, world.feedback, answer, via="api", now=utcnow())
        since, until = utcnow() - timedelta(days=1), utcnow() + timedelta(hours=1)
        steps = rollup(session, by="journey_step", since=since, until=until)
        kinds = rollup(session, by="communication_type", since=since, until=until)
    assert {(r.key, r.answers) for r in steps} == {("activate_card/set_pin", 1), (None, 1)}
    assert {(r.key, tuple((f.kind, f.score) for f in r.figures)) for r in kinds} == {
        ("notice", (("ces", 6.0),)), (None, (("nps", -100.0),)),
    }  # fmt: skip
