"""The customer page an agent reads on a call: national ids masked (revealed only by a role allowed to, audited),
events in words with system events hidden, times in the console's zone, names isolated for bidi text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.audit.service import entries
from seamline.config import Settings
from seamline.console.pages import HERE
from seamline.core.db import unit_of_work
from tests.console.conftest import SignIn, log_in
from tests.console.people_more import NATIONAL_ID, RTL_NAME, noor
from tests.support.builders import make_user

TEMPLATES = HERE / "templates"


def _section(html: str, heading_id: str) -> str:
    return html.split(f'<h2 id="{heading_id}">', 1)[1].split("</section>", 1)[0]


def test_national_ids_are_masked_for_agents_everywhere_on_the_page(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    profile = noor(console, engine, settings)
    sign_in("agent")
    page = console.get(f"/console/customers/{profile}", params={"system": "1"})
    assert page.status_code == 200
    assert NATIONAL_ID not in page.text  # not in the golden record, the identifiers, nor the raw messages
    assert "5678" in _section(page.text, "identifiers")  # the last four, to check what the caller says
    assert "Reveal the national id" not in page.text
    refused = console.get(f"/console/customers/{profile}", params={"reveal": "national_id"})
    assert refused.status_code == 403
    assert NATIONAL_ID not in refused.text


def test_a_supervisor_reveals_a_national_id_and_the_reveal_is_audited(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    profile = noor(console, engine, settings)
    sign_in("supervisor")
    page = console.get(f"/console/customers/{profile}")
    assert NATIONAL_ID not in page.text
    assert "Reveal the national id" in page.text
    with unit_of_work(engine, write=False) as session:
        before = [e.detail for e in entries(session, subject_type="profile", subject_id=profile)]
    assert {"reveal": "national_id"} not in before
    revealed = console.get(f"/console/customers/{profile}", params={"reveal": "national_id"})
    assert revealed.status_code == 200
    assert NATIONAL_ID in _section(revealed.text, "identifiers")
    with unit_of_work(engine, write=False) as session:
        after = entries(session, subject_type="profile", subject_id=profile)
    reveals = [e for e in after if e.detail == {"reveal": "national_id"}]
    assert len(reveals) == 1
    assert reveals[0].actor == "console:supervisor"


def test_the_timeline_says_events_in_words_and_hides_system_events_until_asked(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    profile = noor(console, engine, settings)
    sign_in("agent")
    timeline = _section(console.get(f"/console/customers/{profile}").text, "timeline")
    assert "Viewed the page Pricing" in timeline
    assert "Order Completed: total 42.5, currency EUR" in timeline
    assert "<details>" in timeline  # the raw message is behind a toggle
    assert "Details received" not in timeline  # the identify is a system event
    everything = _section(console.get(f"/console/customers/{profile}", params={"system": "1"}).text, "timeline")
    assert "Details received: full name, email, national id" in everything
    assert "Product CARD-4242" in everything


def test_the_summary_above_the_fold_names_who_products_contacts_and_preferences(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    profile = noor(console, engine, settings)
    sign_in("agent")
    html = console.get(f"/console/customers/{profile}").text
    summary = html.split('<div class="summary">', 1)[1].split('<div class="columns">', 1)[0]
    assert "noor@example.com" in summary
    assert "CARD-4242" in summary
    assert "Order Completed" in summary
    assert "No open cases." in summary
    assert "Marketing" in summary


def test_names_are_isolated_for_right_to_left_text(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    profile = noor(console, engine, settings)
    sign_in("agent")
    html = console.get(f"/console/customers/{profile}").text
    assert f"<h1><bdi>{RTL_NAME}</bdi></h1>" in html
    assert f">{RTL_NAME}</bdi>" in _section(html, "golden")


@pytest.fixture
def tokyo(settings: Settings) -> Iterator[TestClient]:
    zoned = settings.model_copy(update={"console": settings.console.model_copy(update={"time_zone": "Asia/Tokyo"})})
    with TestClient(create_app(zoned), base_url="http://localhost") as client:
        yield client


def test_times_show_in_the_console_time_zone(tokyo: TestClient, engine: Engine, settings: Settings) -> None:
    profile = noor(tokyo, engine, settings)
    make_user(engine, "agent", "agent")
    log_in(tokyo, "agent")
    timeline = _section(tokyo.get(f"/console/customers/{profile}").text, "timeline")
    assert "2026-01-15 19:05 JST" in timeline
    assert "UTC" not in timeline


def test_no_roadmap_wording_in_any_template() -> None:
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8").lower()
        for phrase in ("reporting work", "communications work", "to come", "arrive with", "coming soon"):
            assert phrase not in text, (template.name, phrase)


def test_no_roadmap_wording_on_the_pages(console: TestClient, sign_in: SignIn) -> None:
    sign_in("supervisor")
    for path in ("/console", "/console/reports"):
        text = console.get(path).text.lower()
        for phrase in ("reporting work", "to come", "arrive with", "coming soon", "comes with the"):
            assert phrase not in text, (path, phrase)


def test_a_time_zone_that_does_not_exist_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="IANA time zone"):
        settings.console.model_validate({"time_zone": "Mars/Olympus"})
