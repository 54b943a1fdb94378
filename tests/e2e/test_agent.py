"""An agent finds a customer by a misspelt name, reads the timeline and corrects the email, in a real browser."""

from __future__ import annotations

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.config import Settings
from tests.console.people import ada_and_grace
from tests.e2e.conftest import Shoot, sign_in
from tests.support.builders import make_user


def test_agent_finds_reads_and_corrects(
    page: Page, seed: TestClient, engine: Engine, settings: Settings, base_url: str, shoot: Shoot
) -> None:
    ada, _grace = ada_and_grace(seed, engine, settings)
    make_user(engine, "agent", "agent", name="Alex Agent")
    sign_in(page, base_url, "agent", shoot)
    shoot("home")

    page.get_by_role("searchbox").fill("Ada Lovelase")
    page.get_by_role("searchbox").press("Enter")
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    shoot("find")

    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    timeline = page.locator("section", has=page.get_by_role("heading", name="Timeline"))
    expect(timeline.locator("summary", has_text="Statement Viewed")).to_be_visible()
    timeline.get_by_label("Source").select_option("crm")
    timeline.get_by_role("button", name="Filter").click()
    expect(timeline.locator("summary", has_text="Statement Viewed")).to_have_count(0)
    shoot("customer")

    page.get_by_text("Correct details").click()  # the form waits behind its heading until needed
    page.get_by_label("email").fill("ada.lovelace@example.com")
    page.get_by_label("Reason").fill("customer spelled it out on the call")
    page.get_by_role("button", name="Save corrections").click()
    expect(page.get_by_role("status")).to_have_text("The correction is saved.")
    expect(page.get_by_label("email")).to_have_value("ada.lovelace@example.com")
    shoot("corrected")
    assert page.url.endswith(f"/console/customers/{ada}?saved=correction")
