"""The customer page at a call-center desk (1366x768) and on a phone (390x844), in headless Chromium: what an agent
needs on a call is above the fold, and the narrow layout holds without sideways scrolling."""

from __future__ import annotations

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.config import Settings
from tests.console.people_more import NATIONAL_ID, RTL_NAME, noor
from tests.e2e.conftest import SCREENSHOTS, Shoot, sign_in
from tests.support.builders import make_user

SUMMARY = ("Who", "Products", "Cases in progress", "Last contacts", "May we contact them")


def test_what_an_agent_needs_is_above_the_fold_and_the_page_holds_on_a_phone(
    page: Page, seed: TestClient, engine: Engine, settings: Settings, base_url: str, shoot: Shoot
) -> None:
    profile = noor(seed, engine, settings)
    make_user(engine, "agent", "agent", name="Alex Agent")
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, base_url, "agent")
    page.goto(f"{base_url}/console/customers/{profile}")
    expect(page.get_by_role("heading", name=RTL_NAME, level=1)).to_be_visible()
    for name in SUMMARY:
        box = page.get_by_role("heading", name=name, exact=True).bounding_box()
        assert box is not None, name
        assert box["y"] + box["height"] <= 768, f"{name} is below the fold at 1366x768"
    summary = page.locator(".summary").bounding_box()
    assert summary is not None
    assert summary["y"] + summary["height"] <= 768, "the summary does not fit above the fold"
    assert NATIONAL_ID not in page.content()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "customer-1366x768-fold.png"))
    timeline = page.locator("section", has=page.get_by_role("heading", name="Timeline"))
    entry = timeline.locator("summary", has_text="Order Completed: total 42.5")
    expect(entry).to_be_visible()
    expect(timeline.locator("pre").first).to_be_hidden()  # the raw message waits behind the toggle
    entry.click()
    expect(timeline.locator("pre").first).to_be_visible()
    shoot("customer-1366")
    desk_height = page.evaluate("document.documentElement.scrollHeight")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.get_by_role("heading", name="Who", exact=True)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width} px wide"
    page.screenshot(path=str(SCREENSHOTS / "customer-390x844-fold.png"))
    shoot("customer-390")
    phone_height = page.evaluate("document.documentElement.scrollHeight")
    print(f"customer page height: {desk_height} px at 1366x768, {phone_height} px at 390x844")
