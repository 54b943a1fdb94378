"""The next best actions on the customer page, in headless Chromium: an agent reads the suggestion and why, and
records the customer's answer with one click."""

from __future__ import annotations

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.config import Settings
from tests.decisions.test_policy import _track
from tests.e2e.conftest import Shoot, sign_in
from tests.support.builders import make_user
from tests.support.people import person


def test_an_agent_reads_the_suggestion_and_records_the_answer(
    page: Page, seed: TestClient, engine: Engine, settings: Settings, base_url: str, shoot: Shoot
) -> None:
    ada = person(seed, engine, settings)
    _track(
        seed, engine, settings, "u-ada", ("Account Opened", {"account_id": "CHK-1", "account_type": "checking_account"})
    )
    make_user(engine, "agent", "agent", name="Alex Agent")
    sign_in(page, base_url, "agent")
    page.goto(f"{base_url}/console/customers/{ada}")
    actions = page.locator("section", has=page.get_by_role("heading", name="Next best actions"))
    suggestion = actions.locator("li", has_text="Go paperless").first
    expect(suggestion).to_be_visible()
    suggestion.get_by_text("Why").click()
    expect(suggestion.get_by_text("eligible: (holds checking_account")).to_be_visible()
    shoot("actions")
    suggestion.get_by_role("button", name="Offered: accepted").click()
    expect(page.get_by_role("status")).to_have_text("The customer's answer is recorded.")
    shoot("answer-recorded")
