"""Cases follow the person through a real merge (events, worker) and go back exactly on unmerge."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.cases.config import CasesConfig
from seamline.cases.service import list_cases, open_case
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.identity.repository import merges_of
from seamline.identity.service import root_of
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.replay import unmerge
from tests.support.builders import make_source
from tests.support.flows import active_profiles, drain, profile_holding, send

CONFIG = CasesConfig()


def _cases_of(engine: Engine, profile_id: int) -> list[str]:
    with unit_of_work(engine, write=False) as session:
        return sorted(c.subject for c in list_cases(session, CONFIG, profile_id=profile_id).cases)


def _open(engine: Engine, profile_id: int, subject: str) -> None:
    with unit_of_work(engine) as session:
        root = root_of(session, profile_id)
        open_case(
            session, CONFIG, profile_id=root, origin_profile_id=profile_id, subject=subject, channel="phone",
            actor="maria", surface="console",
        )  # fmt: skip


def test_cases_follow_a_merge_and_an_unmerge_gives_each_side_its_own_cases_back(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "page", "anonymousId": "tablet-9", "name": "Loans"})
    send(client, web, {"type": "identify", "userId": "u-ann", "traits": {"email": "ann@example.com"}})
    drain(engine, settings)
    tablet, ann = profile_holding(engine, "anonymous_id:tablet-9"), profile_holding(engine, "user_id:u-ann")
    assert tablet != ann
    _open(engine, tablet, "Loan question from the tablet")
    _open(engine, ann, "Card blocked")

    send(client, web, {"type": "track", "anonymousId": "tablet-9", "userId": "u-ann", "event": "Signed In"})
    drain(engine, settings)
    assert len(active_profiles(engine)) == 1
    with unit_of_work(engine, write=False) as session:
        root = root_of(session, tablet)
    assert _cases_of(engine, root) == ["Card blocked", "Loan question from the tablet"]
    # a case opened after the merge on the absorbed id remembers where it was opened
    absorbed = tablet if root == ann else ann
    _open(engine, absorbed, "Opened on the merged id")

    with unit_of_work(engine) as session:
        merge = merges_of(session, [root])[-1]
        unmerge(session, merge.id, Pipeline(settings.identity, settings.consent), actor="dpo", reason="shared")
    assert sorted(active_profiles(engine)) == sorted([tablet, ann])
    expected = {tablet: ["Loan question from the tablet"], ann: ["Card blocked"]}
    expected[absorbed] = sorted([*expected[absorbed], "Opened on the merged id"])
    assert {tablet: _cases_of(engine, tablet), ann: _cases_of(engine, ann)} == expected
