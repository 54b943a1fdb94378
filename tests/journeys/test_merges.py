"""Two open instances of a journey join when identity merges their people, and an unmerge splits them back
exactly: each side gets its own instance, its own data and its own progress; a resume token follows its person."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.identity.repository import merges_of
from seamline.identity.service import root_of
from seamline.journeys import actions, service, tokens
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.replay import unmerge
from tests.journeys.support import load_demo_definitions
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _journeys(engine: Engine, profile_id: int) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    with unit_of_work(engine, write=False) as session:
        root = root_of(session, profile_id)
        out = []
        for row in service.journeys_of(session, root):
            state = service.state_of(session, row)
            out.append((row.public_id, row.status, row.current_step, state.values))
        return out


def test_instances_join_on_merge_and_split_back_exactly_on_unmerge(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    load_demo_definitions(engine)
    pipeline = Pipeline(settings.identity, settings.consent, settings.traits)
    _, web = make_source(engine, "web", "web")
    with unit_of_work(engine) as session:
        tablet = actions.start(session, pipeline, "go_paperless", {"anonymousId": "tablet-9"}, actions.Actor("web"))
        tablet_id = tablet.public_id
        actions.save(session, pipeline, tablet_id, "confirm", {"paper_off": True}, actions.Actor("web"),
                     complete=False)  # fmt: skip
        ann = actions.start(session, pipeline, "go_paperless", {"userId": "u-ann"}, actions.Actor("mobile"))
        ann_id = ann.public_id
        actions.save(session, pipeline, ann_id, "confirm_email", {"email": "ann@example.com"}, actions.Actor("mobile"),
                     complete=True)  # fmt: skip
        token = tokens.issue(session, tablet_id, hours=2, secret="s", issued_by="test", now=utcnow()).token
    tablet_profile = profile_holding(engine, "anonymous_id:tablet-9")
    ann_profile = profile_holding(engine, "user_id:u-ann")
    before = {tablet_profile: _journeys(engine, tablet_profile), ann_profile: _journeys(engine, ann_profile)}
    assert before[tablet_profile] == [(tablet_id, "open", "confirm_email", {"paper_off": True})]
    assert before[ann_profile] == [(ann_id, "open", "confirm", {"email": "ann@example.com"})]

    # She signs in on the tablet: one person, one journey, with what both devices gave.
    send(client, web, {"type": "track", "anonymousId": "tablet-9", "userId": "u-ann", "event": "Signed In"})
    drain(engine, settings)
    joined = _journeys(engine, ann_profile)
    assert len(joined) == 1
    assert joined[0][1:] == ("open", "confirm", {"paper_off": True, "email": "ann@example.com"})
    with unit_of_work(engine, write=False) as session:
        assert service.instance(session, tablet_id).public_id == joined[0][0]  # either id opens the one journey
        assert service.instance(session, ann_id).public_id == joined[0][0]
        assert tokens.redeem(session, token, secret="s", now=utcnow()).public_id == joined[0][0]

    # The merge was wrong: each side gets exactly its own journey back.
    with unit_of_work(engine) as session:
        merge = merges_of(session, [root_of(session, ann_profile)])[-1]
        unmerge(session, merge.id, pipeline, actor="dpo", reason="shared tablet")
    after = {tablet_profile: _journeys(engine, tablet_profile), ann_profile: _journeys(engine, ann_profile)}
    assert after == before
    with unit_of_work(engine, write=False) as session:
        assert tokens.redeem(session, token, secret="s", now=utcnow()).public_id == tablet_id
