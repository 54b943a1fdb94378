"""A supervisor undoes a wrong merge, with a reason, and reviews a pair the matcher was unsure of, in a real browser."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.matching.model import TrainedModel
from seamline.matching.service import run_batch
from tests.console.people import wrong_merge
from tests.e2e.conftest import Shoot, sign_in
from tests.matching.people import HANDMADE, KATHERINE, KATHRYN, background
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile
from tests.support.builders import make_user
from tests.support.flows import drain


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


def test_supervisor_reviews_a_match(
    page: Page,
    engine: Engine,
    settings: Settings,
    trained_model: TrainedModel,
    tmp_path: Path,
    base_url: str,
    shoot: Shoot,
) -> None:
    import_silos(engine, settings, [*HANDMADE, *background(40)], tmp_path / "silos")
    with unit_of_work(engine) as session:
        run_batch(session, matching_context(settings, trained_model))
    drain(engine, settings)
    make_user(engine, "super", "supervisor", name="Sam Supervisor")
    sign_in(page, base_url, "super")
    page.get_by_role("link", name="Match review").click()
    expect(page.get_by_role("heading", name="Match review")).to_be_visible()
    shoot("queue")

    row = page.get_by_role("row").filter(has_text="Katharine Morrisson")
    row.get_by_role("link", name="Compare").click()
    expect(page.get_by_role("heading", name="Are these one person?")).to_be_visible()
    comparison = page.get_by_role("table")
    expect(comparison.get_by_role("rowheader", name="last name")).to_be_visible()
    expect(comparison.get_by_role("rowheader", name="total")).to_be_visible()
    shoot("comparison")

    page.get_by_label("Note (optional)").fill("Same birth date; she moved from Oak Avenue to Pine Road")
    page.get_by_role("button", name="Accept: one person, merge them").click()
    expect(page.get_by_role("status")).to_contain_text("Accepted.")
    drain(engine, settings)  # the worker applies the match event (seamline serve runs it in-process)
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("They are one customer now")
    shoot("accepted")
    page.get_by_role("link", name="open their page").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    one = _profile(engine, KATHERINE.record_key, "checking")
    assert _profile(engine, KATHRYN.record_key, "mortgage") == one
    assert page.url.endswith(f"/console/customers/{one}")
