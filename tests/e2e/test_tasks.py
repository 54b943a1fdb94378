"""A rule routes a bereavement notice to a person: the agent finds the task in the Tasks queue, picks it up and
records its outcome and follow-up, then sees both on the customer page. In a real browser."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.config import Settings
from tests.e2e.conftest import Shoot, sign_in
from tests.support.builders import make_user
from tests.triggers.world import World, rule_folder

BEREAVEMENT = """
name: bereavement-notice
on: {event: Bereavement Notified}
do:
  task: {title: "Bereavement notice: contact {traits.first_name} with care", queue: bereavement,
         skills: [bereavement], priority: urgent}
"""


def test_an_agent_works_a_bereavement_task_from_the_queue(
    page: Page, engine: Engine, settings: Settings, tmp_path: Path, base_url: str, shoot: Shoot
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"bereavement": BEREAVEMENT}))
    world.customer("u-1", "Margaret")
    world.send("u-1", "Bereavement Notified", {"relationship": "spouse"})
    profile = world.profile("u-1")
    make_user(engine, "agent", "agent", name="Alex Agent")

    sign_in(page, base_url, "agent")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
    expect(page.get_by_role("heading", name="Tasks", level=1)).to_be_visible()
    expect(page.get_by_text("Bereavement notice: contact Margaret with care")).to_be_visible()
    expect(page.get_by_text("rule bereavement-notice")).to_be_visible()
    shoot("queue")
    page.get_by_role("button", name="Pick up task").click()
    expect(page.get_by_role("status")).to_have_text("The task is yours.")
    page.get_by_label("Outcome").select_option("referred")
    page.get_by_label("Note").fill("Passed to the estates team; spoke with her son")
    page.get_by_label("Follow-up (optional)").fill("Send the bereavement pack")
    page.get_by_role("button", name="Record outcome").click()
    expect(page.get_by_role("status")).to_have_text("Done; the follow-up is made.")
    expect(page.get_by_text("Send the bereavement pack")).to_be_visible()
    shoot("follow-up")

    page.goto(f"{base_url}/console/customers/{profile}")
    tasks = page.locator("section", has=page.get_by_role("heading", name="Tasks"))
    expect(tasks.get_by_text("Passed to the estates team; spoke with her son")).to_be_visible()
    expect(tasks.get_by_text("Send the bereavement pack")).to_be_visible()
    shoot("customer")
