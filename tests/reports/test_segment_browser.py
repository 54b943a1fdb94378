"""The CX overview filtered by a customer segment in headless Chromium: the segment is chosen in the form, every
chart is still drawn, the figures are the segment's, and the form keeps the choice."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from tests.e2e.conftest import browser, page, playwright, sign_in
from tests.reports.test_segments import segmented
from tests.reports.world import DECEMBER
from tests.support.builders import make_user
from tests.support.server import live_server

__all__ = ["browser", "page", "playwright"]


def test_the_overview_of_a_segment_is_drawn(page: Page, engine: Engine, settings: Settings, tmp_path: Path) -> None:
    dashboards = segmented(engine, tmp_path)
    make_user(engine, "analyst", "analyst", name="Ann Analyst")
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    app = create_app(settings)
    with live_server(app) as url:
        app.state.dashboards = dashboards
        sign_in(page, url, "analyst")
        page.goto(f"{url}/console/reports/overview?since={DECEMBER.since}&until={DECEMBER.until}")
        page.get_by_label("Customer segment").select_option(label="Premier customers")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(f"{url}/console/reports/overview?since={DECEMBER.since}&until={DECEMBER.until}"
                                 "&product=&channel=&segment=premier&split=")  # fmt: skip
        expect(page.get_by_label("Customer segment")).to_have_value("premier")
        for key in ("volumes", "effectiveness", "feedback"):
            expect(page.locator(f"#chart-{key}")).to_have_attribute("data-drawn", "yes")
        expect(page.locator("#chart-volumes .scatterlayer .trace")).to_have_count(3)  # email, paper, sms
        expect(page.locator('[data-tile="volumes"] .figures')).to_contain_text("5 messages")
        expect(page.locator('[data-tile="feedback"] .figures')).to_contain_text("50 (2 answers)")
        expect(page.locator('[data-tile="journeys"]')).to_contain_text("Filters it applies: none")
    assert problems == []
