"""The CX overview and the communication errors' reports in headless Chromium: plotly.js (served by Seamline) draws
every chart, no script fails or is refused by the page's policy, and a table downloads."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from tests.e2e.conftest import browser, page, playwright, sign_in
from tests.reports.world import DECEMBER, build
from tests.support.builders import make_user
from tests.support.server import live_server

__all__ = ["browser", "page", "playwright"]


def test_every_chart_of_the_overview_is_drawn(page: Page, engine: Engine, settings: Settings, tmp_path: Path) -> None:
    dashboards = build(engine, tmp_path)
    make_user(engine, "analyst", "analyst", name="Ann Analyst")
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type == "error" and "load resource" not in m.text else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    app = create_app(settings)
    with live_server(app) as url:
        app.state.dashboards = dashboards  # the world's templates (set once the app has started)
        sign_in(page, url, "analyst")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
        page.get_by_role("link", name="CX overview").click()
        page.goto(f"{url}/console/reports/overview?since={DECEMBER.since}&until={DECEMBER.until}")
        charts = page.locator("[data-figure]")
        expect(charts).to_have_count(7)
        for key in ("volumes", "journeys", "errors", "effectiveness", "consent", "repeated_identification", "feedback"):
            chart = page.locator(f"#chart-{key}")
            expect(chart).to_have_attribute("data-drawn", "yes")
            expect(chart.locator("svg.main-svg").first).to_be_visible()
        expect(page.locator("#chart-volumes .scatterlayer .trace")).to_have_count(3)  # a line per channel
        expect(page.locator("#chart-effectiveness .barlayer .point")).not_to_have_count(0)
        expect(page.locator('[data-tile="feedback"]')).to_contain_text("CSAT")
        with page.expect_download() as download:
            page.locator("#tile-volumes").get_by_role("link", name="CSV").first.click()
        assert Path(download.value.path()).read_text(encoding="utf-8").startswith("channel,messages,sent,held\nemail,5")
        page.goto(f"{url}/console/reports")
        page.get_by_role("link", name="Communication errors").click()  # the errors' reports, from the one index
        expect(page).to_have_title("Communication error reports · Seamline")
        for key in ("by-severity", "in-time"):
            expect(page.locator(f"#chart-{key}")).to_have_attribute("data-drawn", "yes")
            expect(page.locator(f"#chart-{key} svg.main-svg").first).to_be_visible()
    assert problems == []
