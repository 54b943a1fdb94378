"""The funnel and paths charts in headless Chromium: plotly.js (served by Seamline) draws them, with no script
refused by the page's CSP and no failed load."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from tests.analytics.test_console import QUERY
from tests.analytics.world import build
from tests.e2e.conftest import browser, page, playwright, sign_in
from tests.support.builders import make_user
from tests.support.server import live_server

__all__ = ["browser", "page", "playwright"]


def test_the_funnel_and_paths_charts_draw_in_the_browser(page: Page, engine: Engine, settings: Settings) -> None:
    build(engine)
    make_user(engine, "supervisor", "supervisor", name="Sue Supervisor")
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type == "error" and "load resource" not in m.text else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    with live_server(create_app(settings)) as url:
        sign_in(page, url, "supervisor")
        page.goto(f"{url}/console/reports/funnels?{urlencode({**QUERY, 'breakdown': 'channel'})}")
        chart = page.locator("#funnel-chart")
        expect(chart).to_have_attribute("data-drawn", "yes")
        expect(chart.locator("svg .funnellayer .trace.bars")).to_have_count(2)  # web and mobile
        expect(chart.locator("svg .funnellayer .trace.bars").first.locator(".point")).to_have_count(4)
        page.get_by_role("link", name="paths", exact=True).first.click()
        expect(page).to_have_url(re.compile(r"/console/reports/paths\?.*step=1"))
        paths = page.locator("#paths-chart")
        expect(paths).to_have_attribute("data-drawn", "yes")
        expect(paths.locator("svg .barlayer .trace.bars .point")).to_have_count(3)
        expect(page.get_by_role("cell", name="email: doc_reminder → case (phone)")).to_be_visible()
    assert problems == []
