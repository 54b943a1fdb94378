"""An agent completes a customer's journey step on the phone, in a real browser; a supervisor sees it move on
the journeys board."""

from __future__ import annotations

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.e2e.conftest import Shoot, sign_in
from tests.journeys.support import complete, journey_key, load_demo_definitions, start
from tests.support.builders import make_user
from tests.support.flows import profile_holding

ABOUT = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}


def test_agent_completes_a_journey_step_with_the_customer_on_the_line(
    page: Page, seed: TestClient, engine: Engine, base_url: str, shoot: Shoot
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    instance = start(seed, headers, "apply_for_mortgage", user_id="u-ann", channel="mobile", device="phone")
    complete(seed, headers, instance["instance_id"], "about_you", ABOUT, channel="mobile", device="phone")
    ann = profile_holding(engine, "user_id:u-ann")
    make_user(engine, "agent", "agent", name="Alex Agent")
    make_user(engine, "sam", "supervisor", name="Sam Supervisor")

    sign_in(page, base_url, "agent", shoot)
    page.goto(f"{base_url}/console/customers/{ann}")
    journeys = page.locator("section", has=page.get_by_role("heading", name="Open journeys"))
    expect(journeys.get_by_role("heading", name="Apply for a mortgage")).to_be_visible()
    expect(journeys.get_by_text("Now: The property")).to_be_visible()
    expect(journeys.get_by_text("✓ About you")).to_contain_text("mobile (phone)")
    shoot("journey")
    journeys.get_by_label("property value (required)").fill("450000")
    journeys.get_by_label("loan amount (required)").fill("300000")
    journeys.get_by_role("button", name="Complete “The property” for the customer").click()
    expect(page.get_by_role("status")).to_have_text(
        "The step is completed, recorded as done by you through the call center."
    )
    journeys = page.locator("section", has=page.get_by_role("heading", name="Open journeys"))
    expect(journeys.get_by_text("✓ The property")).to_contain_text("call-center by agent agent")
    expect(journeys.get_by_text("Now: Your income")).to_be_visible()
    shoot("step-done")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base_url, "sam")
    page.get_by_role("link", name="Journeys").click()
    board = page.locator("section", has=page.get_by_role("heading", name="By definition and step"))
    row = board.get_by_role("row").filter(has_text="Apply for a mortgage").filter(has_text="income")
    expect(row).to_be_visible()
    row.get_by_role("link", name="1").click()
    page.get_by_role("link", name=f"Profile #{ann}").click()
    expect(page.get_by_role("heading", name="Open journeys")).to_be_visible()
    shoot("board")
