"""End-to-end fixtures: Debian's Chromium, headless, driven by Playwright against a live server on loopback.

Never `playwright install`: the browser is the system's /usr/bin/chromium (scripts/test installs it with apt).
Screenshots of every page a flow visits go to test-artifacts/screenshots/ (git-ignored), named by test and step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from seamline.app import create_app
from seamline.config import Settings
from tests.support.builders import CONSOLE_PASSWORD
from tests.support.server import live_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


# Per test, not per session: Playwright's sync API keeps an event loop running in the test thread while it is
# open, and other tests on the same xdist worker (interleaved with these) call asyncio.run, which refuses to nest.
@pytest.fixture
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def seed(settings: Settings) -> Iterator[TestClient]:
    """An in-process client to store test data through the API before the live server starts."""
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def base_url(settings: Settings) -> Iterator[str]:
    """The app served on 127.0.0.1 (loopback: the session cookie works over plain http)."""
    with live_server(create_app(settings)) as url:
        yield url


Shoot = Callable[[str], None]


@pytest.fixture
def shoot(page: Page, request: pytest.FixtureRequest) -> Shoot:
    """Save a full-page screenshot of the current page as a test artifact."""
    test = re.sub(r"[^\w.-]+", "_", request.node.name)

    def screenshot(step: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{test}-{step}.png"), full_page=True)

    return screenshot


def sign_in(page: Page, base_url: str, username: str, shoot: Shoot | None = None) -> None:
    """Open the console, land on the login form, and sign in by keyboard."""
    page.goto(f"{base_url}/console")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    if shoot:
        shoot("login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(CONSOLE_PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
