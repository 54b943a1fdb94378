"""Trigger rules with a condition on the person's open journeys, both databases: a rule for people whose checking
account application waits at a step fires for them only, one for people without it open fires for the others; a
bad condition names its field."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.triggers.rules import RuleError, parse_rule
from tests.journeys.support import journey_key, load_demo_definitions, start
from tests.triggers.world import World, rule_folder

WAITING = """
name: pricing-while-applying
on:
  event: Pricing Viewed
  journey: {name: open_checking_account, open: true, step: about_you}
do:
  task: {title: "Help {traits.first_name} finish the application", queue: sales}
"""
NOT_APPLYING = """
name: pricing-not-applying
on:
  event: Pricing Viewed
  journey: {name: open_checking_account, open: false}
do:
  task: {title: "Offer {traits.first_name} a checking account", queue: sales}
"""


def test_a_rule_fires_only_for_people_whose_journey_is_open_at_the_step(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"waiting": WAITING, "not_applying": NOT_APPLYING}))
    world.customer("u-bo", "Bo")
    world.customer("u-cy", "Cy")
    load_demo_definitions(engine)
    start(client, journey_key(engine), "open_checking_account", user_id="u-bo", channel="web")

    world.send("u-bo", "Pricing Viewed")
    world.send("u-cy", "Pricing Viewed")

    titles = sorted(t.title for t in world.tasks())
    assert titles == ["Help Bo finish the application", "Offer Cy a checking account"]


@pytest.mark.parametrize(
    ("journey", "field"),
    [
        ("{open: true}", "on.journey.name"),
        ("{name: x, open: sometimes}", "on.journey.open"),
        ("{name: x, open: false, step: income}", "on.journey.step"),
        ("{name: x, stage: income}", "on.journey.stage"),
    ],
)
def test_a_bad_journey_condition_names_its_field(journey: str, field: str) -> None:
    text = f"on: {{event: Pricing Viewed, journey: {journey}}}\ndo: {{task: {{title: T}}}}\n"
    with pytest.raises(RuleError) as raised:
        parse_rule(text, "rules/bad.yaml")
    assert f": {field}: " in str(raised.value)
