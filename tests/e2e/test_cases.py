"""An agent opens a case from the customer page, writes the handoff summary and escalates it; a supervisor
finds it in the escalated queue, reads the handoff first and picks it up. In a real browser."""

from __future__ import annotations

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.config import Settings
from tests.console.people import ada_and_grace
from tests.e2e.conftest import Shoot, sign_in
from tests.support.builders import make_user


def test_agent_escalates_a_case_and_a_supervisor_picks_it_up(
    page: Page, seed: TestClient, engine: Engine, settings: Settings, base_url: str, shoot: Shoot
) -> None:
    ada, _grace = ada_and_grace(seed, engine, settings)
    make_user(engine, "agent", "agent", name="Alex Agent")
    make_user(engine, "super", "supervisor", name="Sam Supervisor")

    sign_in(page, base_url, "agent")
    page.goto(f"{base_url}/console/customers/{ada}")
    cases = page.locator("section", has=page.get_by_role("heading", name="Open cases"))
    expect(cases.get_by_text("No open cases.")).to_be_visible()
    cases.get_by_text("Open a case").click()
    cases.get_by_label("Subject").fill("Card declined abroad")
    cases.get_by_label("Priority").select_option("high")
    cases.get_by_label("First note").fill("Customer is in Lisbon; the card was declined at the hotel twice.")
    shoot("open-form")
    cases.get_by_role("button", name="Open the case").click()
    expect(page.get_by_role("status")).to_have_text("The case is opened.")
    expect(page.get_by_role("heading", name="Card declined abroad", level=1)).to_be_visible()
    case_url = page.url.split("?")[0]

    handoff = page.locator("section", has=page.get_by_role("heading", name="Handoff summary"))
    handoff.get_by_label("Verified").fill("Date of birth and the last four digits of the card")
    handoff.get_by_label("Customer said").fill("Declined at the Lisbon hotel, twice, on Monday evening")
    handoff.get_by_label("Tried").fill("Lifted the travel block; the card is still declined")
    handoff.get_by_role("button", name="Save handoff summary").click()
    expect(page.get_by_role("status")).to_have_text("The handoff summary is saved as a new version.")

    page.get_by_label("Reason to escalate").fill("Possible fraud block: needs a supervisor's decision")
    page.get_by_role("button", name="Escalate to supervisors").click()
    expect(page.get_by_role("status")).to_contain_text("escalated")
    expect(page.get_by_text("Escalated: waiting for a supervisor to pick it up.")).to_be_visible()
    shoot("escalated")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, base_url, "super")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    shoot("queues")
    page.get_by_role("link", name="Escalated (supervisors)").click()
    expect(page.get_by_text("Possible fraud block: needs a supervisor's decision")).to_be_visible()
    shoot("escalated-queue")
    page.get_by_role("button", name="Pick up case").click()
    expect(page.get_by_role("status")).to_have_text("The case is yours.")
    assert page.url.split("?")[0] == case_url
    # The handoff summary is the first thing on the page after the heading.
    expect(page.locator("main h2").first).to_have_text("Handoff summary")
    expect(handoff.get_by_text("Declined at the Lisbon hotel, twice, on Monday evening").first).to_be_visible()
    expect(handoff.get_by_text("Version 1, written by agent")).to_be_visible()
    standing = page.locator("section", has=page.get_by_role("heading", name="Where it stands"))
    expect(standing.get_by_text("super (you)")).to_be_visible()
    shoot("case")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    page.get_by_role("navigation", name="Case views").get_by_role("link", name="My cases").click()
    expect(page.get_by_role("link", name="Card declined abroad")).to_be_visible()
    expect(page.get_by_role("link", name="My cases")).to_have_attribute("aria-current", "page")
    shoot("my-cases")
