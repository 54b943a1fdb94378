"""Next steps in the channel the customer used, both databases: a step that says `channel: last_used` answers an
SMS with an SMS and the web with an email, and falls back to a channel that reaches the person when theirs does
not (no phone on file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.triggers.rules import RuleError, parse_rule
from tests.triggers.world import World, rule_folder

NEXT_STEP = """
name: next-step-where-they-are
on:
  event: Journey Step Completed
  where: {journey: mortgage-application, step: income}
once: "{instance_id}"
do:
  send: journey_next_step
  channel: last_used
  data: {first_name: "{traits.first_name}", step: income details, next_step: an underwriter checks them,
         expected: within 2 working days}
"""


def _completed(world: World, user: str, instance: str, channel: str) -> None:
    properties = {"journey": "mortgage-application", "step": "income", "instance_id": instance, "channel": channel}
    world.send(user, "Journey Step Completed", properties)


def test_the_next_step_goes_by_the_channel_the_customer_used_or_one_that_reaches_them(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"next-step": NEXT_STEP}))
    world.send("u-sms", traits={"email": "sam@example.com", "phone": "+447911123456", "first_name": "Sam"})
    world.customer("u-mail", "Ada")  # an email address, no phone

    _completed(world, "u-sms", "a", "sms")
    _completed(world, "u-sms", "b", "web")  # the web is not a channel of the template: the first that reaches
    _completed(world, "u-mail", "c", "sms")  # no phone on file: falls back to email

    sam = {c.fields.get("step"): c for c in world.communications("u-sms")}
    told = sorted((c.channel, c.template) for c in world.communications("u-sms"))
    assert told == [("email", "journey_next_step"), ("sms", "journey_next_step")]
    assert sam["income details"].fields["next_step"] == "an underwriter checks them"
    [ada] = world.communications("u-mail")
    assert (ada.channel, ada.template) == ("email", "journey_next_step")


def test_a_channel_is_asked_only_of_a_send_and_must_be_known() -> None:
    for step, field in [
        ("send: journey_next_step\n  channel: fax", "do[0].channel"),
        ("task: {title: Call}\n  channel: sms", "do[0].channel"),
    ]:
        with pytest.raises(RuleError) as raised:
            parse_rule(f"on: {{event: X}}\ndo:\n  {step}\n", "rules/bad.yaml")
        assert f": {field}: " in str(raised.value)
