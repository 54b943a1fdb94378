"""Answers and the cool-down follow the person through a real merge, and go back exactly on an unmerge; a replay
answers nothing twice."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.feedback.service import AnswerInput, answers_of, invite, record_answers
from seamline.identity.repository import merges_of
from seamline.identity.service import root_of
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.replay import unmerge
from seamline.worker.triggers import feedback_setup
from tests.support.builders import make_source
from tests.support.flows import active_profiles, drain, profile_holding, send


def _surveys(engine: Engine, profile_id: int) -> list[str]:
    with unit_of_work(engine, write=False) as session:
        return sorted(a.survey for a in answers_of(session, profile_id))


def test_answers_follow_a_merge_and_an_unmerge_gives_each_side_its_own(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    setup = feedback_setup(settings)
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "track", "anonymousId": "tablet-9", "event": "Survey Answered",
                       "properties": {"survey": "ces_message", "score": 2}})  # fmt: skip
    send(client, web, {"type": "identify", "userId": "u-ann", "traits": {"email": "ann@example.com"}})
    drain(engine, settings)
    tablet, ann = profile_holding(engine, "anonymous_id:tablet-9"), profile_holding(engine, "user_id:u-ann")
    with unit_of_work(engine) as session:
        record_answers(session, setup, [AnswerInput("nps_journey", 9, profile_id=ann)], via="api", now=utcnow())
        assert invite(session, setup, ann, "csat_case", about={}, now=utcnow()).invitation is not None
    assert (_surveys(engine, tablet), _surveys(engine, ann)) == (["ces_message"], ["nps_journey"])

    send(client, web, {"type": "track", "anonymousId": "tablet-9", "userId": "u-ann", "event": "Signed In"})
    drain(engine, settings)
    assert len(active_profiles(engine)) == 1
    with unit_of_work(engine) as session:
        root = root_of(session, tablet)
        assert _surveys(engine, root) == ["ces_message", "nps_journey"]
        # The survivor holds the cool-down: surveyed as Ann, the merged person is not surveyed again.
        again = invite(session, setup, root, "ces_message", about={}, now=utcnow())
        assert again.skipped is not None
        assert again.skipped.startswith("cool-down")
        merge = merges_of(session, [root])[-1]
        unmerge(session, merge.id, Pipeline(settings.identity, settings.consent), actor="dpo", reason="shared")
    assert sorted(active_profiles(engine)) == sorted([tablet, ann])
    assert (_surveys(engine, tablet), _surveys(engine, ann)) == (["ces_message"], ["nps_journey"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM survey_answers")).scalar() == 2  # the replay added none
