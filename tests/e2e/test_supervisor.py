"""A supervisor undoes a wrong merge, with a reason, in a real browser."""

from __future__ import annotations

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.config import Settings
from tests.console.people import wrong_merge
from tests.e2e.conftest import Shoot, sign_in
from tests.support.builders import make_user


def test_supervisor_unmerges_a_wrong_merge(
    page: Page, seed: TestClient, engine: Engine, settings: Settings, base_url: str, shoot: Shoot
) -> None:
    survivor, merged = wrong_merge(seed, engine, settings)
    make_user(engine, "super", "supervisor", name="Sam Supervisor")
    sign_in(page, base_url, "super")
    page.goto(f"{base_url}/console/customers/{survivor}")
    merges = page.locator("section", has=page.get_by_role("heading", name="Merge history"))
    expect(merges.get_by_role("button", name="Unmerge")).to_be_visible()
    shoot("before")

    merges.get_by_role("button", name="Unmerge").click()  # the reason is required: the browser refuses to send
    expect(merges.get_by_role("button", name="Unmerge")).to_be_visible()
    merges.get_by_placeholder("Why this merge is wrong").fill(
        "Bob's phone was stitched to Augusta by a bad integration"
    )
    merges.get_by_role("button", name="Unmerge").click()
    expect(page.get_by_role("status")).to_have_text("The merge is undone.")
    expect(merges.get_by_text("undone")).to_be_visible()
    shoot("after")

    page.goto(f"{base_url}/console/customers/{merged}")
    expect(page.get_by_role("heading", name="Bob Builder", level=1)).to_be_visible()
    shoot("apart")
