"""A survey of three questions answered in headless Chromium, as a customer would: no script on the page, every
question a labelled group of radio buttons, only the headline required, the answer recorded with every score."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from tests.e2e.conftest import browser, page, playwright
from tests.feedback.world import FeedbackWorld
from tests.support.server import live_server
from tests.triggers.world import rule_folder

__all__ = ["browser", "page", "playwright"]


def test_three_questions_on_one_page(page: Page, engine: Engine, settings: Settings, tmp_path: Path) -> None:
    world = FeedbackWorld(engine, settings, rule_folder(tmp_path, {}))
    world.customer("u-1", first_name="Ada")
    invited = world.invite("u-1", "csat_advice", {"branch": "Leeds", "staff": "amir"})
    assert invited.url is not None
    with live_server(create_app(settings)) as url:
        page.goto(url + re.sub(r"^https?://[^/]+", "", invited.url))
        expect(page.locator("script")).to_have_count(0)
        expect(page.locator("fieldset")).to_have_count(3)
        satisfaction = page.get_by_role("group", name="How satisfied are you with the advice you were given?")
        waiting = page.get_by_role("group", name=re.compile("How was the waiting time"))
        expect(waiting).to_contain_text("(optional)")
        satisfaction.get_by_label("4", exact=True).check()
        waiting.get_by_label("Far too long").check()  # point 1, named by its end of the scale
        page.get_by_role("button", name="Send my answer").click()
        expect(page.get_by_role("status")).to_contain_text("your answer has been recorded")
    [answer] = world.answers("u-1")
    assert dict(answer.scores) == {"satisfaction": 4, "waiting": 1}  # effort left unanswered
