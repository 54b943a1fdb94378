"""The flow map in headless Chromium: plotly.js (served by Seamline) draws the Sankey — its node and link SVG
elements exist — a click on a node filters, and the SVG export and the data download work."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.communications.config import EmailConfig
from seamline.config import Settings
from tests.assessment.ecosystem import build
from tests.e2e.conftest import browser, page, playwright, sign_in
from tests.support.builders import make_user
from tests.support.server import live_server

__all__ = ["browser", "page", "playwright"]


def test_the_flow_map_is_drawn_filters_on_click_and_exports(
    page: Page, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    build(engine, tmp_path)
    make_user(engine, "analyst", "analyst", name="Ann Analyst")
    ecosystem = settings.model_copy(update={"email": EmailConfig(templates_dir=tmp_path / "templates")})
    problems: list[str] = []
    # A script refused by the page's CSP, or failing, says so on the console; a failed load (but the browser's own
    # favicon probe, which has no response event) is a response of 400 or more.
    page.on(
        "console", lambda m: problems.append(m.text) if m.type == "error" and "load resource" not in m.text else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    with live_server(create_app(ecosystem)) as url:
        sign_in(page, url, "analyst")
        page.get_by_role("link", name="Communications").click()
        expect(page.get_by_role("heading", name="Inventory: every communication, one row each")).to_be_visible()
        page.get_by_role("link", name="Flow map").click()
        chart = page.locator("#flow-chart")
        expect(chart).to_have_attribute("data-drawn", "yes")
        nodes, links = chart.locator("svg .sankey-node"), chart.locator("svg .sankey-link")
        expect(nodes).to_have_count(12)  # 3 sources, 3 platforms, 3 communications, 3 channels
        expect(links).to_have_count(9)
        expect(chart.locator("svg .sankey-node", has_text="card_notice")).to_be_visible()

        with page.expect_download() as svg_download:
            page.get_by_role("button", name="Download SVG").click()
        picture = svg_download.value
        assert picture.suggested_filename == "flow-map.svg"
        saved = Path(picture.path()).read_text(encoding="utf-8")
        assert saved.startswith("<svg")
        assert "card_notice" in saved

        with page.expect_download() as csv_download:
            page.get_by_role("link", name="Data as CSV").click()
        assert Path(csv_download.value.path()).read_text(encoding="utf-8").count("\n") == 10  # header + 9 edges

        chart.locator("svg .sankey-node", has_text="sms").locator(".node-rect").click()
        expect(page).to_have_url(f"{url}/console/communications/flow?channel=sms")
        expect(chart).to_have_attribute("data-drawn", "yes")
        expect(chart.locator("svg .sankey-node")).to_have_count(4)  # crm → martech → promo-x → sms
    assert problems == []
