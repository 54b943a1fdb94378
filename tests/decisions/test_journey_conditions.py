"""Conditions on open journeys in the action catalog, on both databases: a nudge for the step a person's open journey
is at is offered, one for another step or for people without the journey open says why not; bad conditions are
refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.cases.config import CasesConfig
from seamline.config import Settings
from seamline.consent.config import ConsentConfig
from seamline.core.db import unit_of_work
from seamline.core.prepared import read_snapshot
from seamline.decisions.arbitration import Situation
from seamline.decisions.catalog import CatalogError
from seamline.decisions.config import DecisionsConfig
from seamline.decisions.many import decide_many
from seamline.decisions.service import Setup, decide
from seamline.profiles.survivorship import SurvivorshipConfig
from tests.journeys.support import complete, journey_key, load_demo_definitions, start
from tests.support.flows import profile_holding

NUDGE = """kind: nudge
title: {title}
channels: [web]
priority: service
purpose: service
eligibility:
  journey: {condition}
"""
NUDGES = {
    "finish_identity": (
        "Prove your identity in two minutes",
        "{name: open_checking_account, open: true, step: identity}",
    ),
    "finish_about_you": ("Tell us about you", "{name: open_checking_account, step: about_you}"),
    "any_checking": ("Your application is waiting", "{name: open_checking_account}"),
    "start_checking": ("Open a checking account", "{name: open_checking_account, open: false}"),
}


def _setup(tmp_path: Path, settings: Settings) -> Setup:
    folder = tmp_path / "actions"
    folder.mkdir()
    for name, (title, condition) in NUDGES.items():
        (folder / f"{name}.yaml").write_text(NUDGE.format(title=title, condition=condition), encoding="utf-8")
    return Setup.build(DecisionsConfig(catalog_dir=folder), settings.consent, SurvivorshipConfig(), CasesConfig())


def _decide(engine: Engine, setup: Setup, profile_id: int) -> tuple[list[str], dict[str, str]]:
    """One person's decision, the same in a unit of work, on a read snapshot (the API's way) and in a batch."""
    answers = []
    with unit_of_work(engine, write=False) as session:
        answers.append(decide(session, profile_id, Situation("web"), setup, limit=10).decision)
        answers.append(decide_many(session, [profile_id], Situation("web"), setup, limit=10)[profile_id].decision)
    with read_snapshot(engine) as snapshot:
        answers.append(decide(snapshot, profile_id, Situation("web"), setup, engine=engine, limit=10).decision)
    seen = [
        (sorted(r.action.name for r in decision.ranked), {s.action.name: s.reason for s in decision.stopped})
        for decision in answers
    ]
    assert seen[1:] == seen[:1] * 2
    return seen[0]


def test_actions_follow_the_step_of_the_persons_open_journey(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    setup = _setup(tmp_path, settings)
    load_demo_definitions(engine)
    headers = journey_key(engine)
    instance = start(client, headers, "open_checking_account", user_id="u-bo", channel="web")["instance_id"]
    bo = profile_holding(engine, "user_id:u-bo")

    chosen, why = _decide(engine, setup, bo)
    assert chosen == ["any_checking", "finish_about_you"]
    assert why["finish_identity"] == (
        "needs journey open_checking_account open at step identity (it is open at step about_you)"
    )
    assert why["start_checking"] == "needs journey open_checking_account not open (it is open at step about_you)"

    about = {"first_name": "Bo", "last_name": "Lind", "email": "bo@example.com"}
    complete(client, headers, instance, "about_you", about, channel="web")
    chosen, why = _decide(engine, setup, bo)
    assert chosen == ["any_checking", "finish_identity"]

    start(client, headers, "go_paperless", user_id="u-cy", channel="web")  # another journey open, not this one
    cy = profile_holding(engine, "user_id:u-cy")
    chosen, why = _decide(engine, setup, cy)
    assert chosen == ["start_checking"]
    assert why["any_checking"] == "needs journey open_checking_account open (it is not open)"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{name: open_checking_account, open: maybe}", "eligibility.journey.open: expected true or false"),
        ("{name: open_checking_account, open: false, step: identity}", "eligibility.journey.step: a step is only"),
        ("{open: true}", "eligibility.journey.name: expected a non-empty text"),
        ("{name: x, stage: y}", "eligibility.journey.stage: unknown key"),
    ],
)
def test_a_bad_journey_condition_is_refused_naming_the_field(tmp_path: Path, condition: str, expected: str) -> None:
    (tmp_path / "nudge.yaml").write_text(NUDGE.format(title="T", condition=condition), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        Setup.build(DecisionsConfig(catalog_dir=tmp_path), ConsentConfig(), SurvivorshipConfig(), CasesConfig())
    assert expected in str(raised.value)
