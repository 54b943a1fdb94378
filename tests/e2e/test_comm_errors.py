"""An agent reports a misspelt name from the customer's communications and fixes it on the call; a wrong balance
is escalated and the agent reads what happens next; another is corrected and the statement re-sent, and the error
and the customer's communications link to each other; in a real browser."""

from __future__ import annotations

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from seamline.communications.service import ExternalCommunication, log_external, queue_message
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.e2e.conftest import Shoot, sign_in
from tests.support.builders import make_user
from tests.support.people import person


def test_agent_reports_fixes_and_escalates_communication_errors(
    page: Page, seed: TestClient, engine: Engine, settings: Settings, base_url: str, shoot: Shoot
) -> None:
    ada = person(seed, engine, settings)
    with unit_of_work(engine) as session:
        log_external(
            session,
            [
                ExternalCommunication("welcome-1", ada, "notice", "paper", "print-house", template="welcome",
                                      batch="w-11", subject="Welcome, Adda"),
                ExternalCommunication("stmt-1", ada, "statement", "email", "print-house", template="statement_ready",
                                      template_version="1", batch="nov", subject="Your November statement"),
            ],
        )  # fmt: skip
    make_user(engine, "agent", "agent", name="Alex Agent")
    sign_in(page, base_url, "agent", shoot)

    page.goto(f"{base_url}/console/customers/{ada}")
    communications = page.locator("section", has=page.get_by_role("heading", name="Communications"))
    communications.locator("tr", has_text="Welcome, Adda").get_by_role("link", name="Report an error").click()
    expect(page.get_by_role("heading", name="Report a communication error")).to_be_visible()
    page.get_by_label("Wrong field").fill("first_name")
    page.get_by_label("It showed").fill("Adda")
    page.get_by_label("It should have shown").fill("Ada")
    shoot("report-name")
    page.get_by_role("button", name="Report the error").click()
    expect(page.get_by_role("status")).to_have_text("The error is reported.")
    expect(page.get_by_role("heading", name="Fix it now")).to_be_visible()
    shoot("reported-name")
    page.get_by_role("button", name="Correct and close").click()
    expect(page.get_by_role("status")).to_contain_text("Fixed: the record is corrected")
    expect(page.get_by_text("Fixed on this contact")).to_be_visible()
    shoot("fixed")

    page.goto(f"{base_url}/console/errors/new?profile={ada}&communication=stmt-1")
    page.get_by_label("Wrong field").fill("balance")
    page.get_by_label("It showed").fill("£12.40")
    page.get_by_label("It should have shown").fill("£1,240.00")
    page.get_by_role("button", name="Report the error").click()
    next_steps = page.locator("section", has=page.get_by_role("heading", name="What happens next"))
    expect(next_steps).to_contain_text("Escalated as high to operations")
    expect(next_steps).to_contain_text("Tell the customer:")
    expect(page.get_by_role("heading", name="Fix it now")).to_have_count(0)
    shoot("escalated")

    page.get_by_role("link", name="Errors", exact=True).click()
    expect(page.get_by_role("link", name="high (1)")).to_be_visible()
    shoot("queue")


def test_agent_corrects_a_wrong_balance_and_re_sends_the_statement(
    page: Page, seed: TestClient, engine: Engine, settings: Settings, base_url: str, shoot: Shoot
) -> None:
    ada = person(seed, engine, settings)
    with unit_of_work(engine) as session:  # a statement Seamline sent, with the wrong balance from core banking
        wrong, _created = queue_message(
            session, ada, "statement_ready", {"first_name": "Ada", "product_name": "Current account",
                                              "balance": "£12.40"},
            catalog=Catalog(settings.email.templates_dir), consent=settings.consent, source_system="core-banking",
            batch="nov",
        )  # fmt: skip
    make_user(engine, "agent", "agent", name="Alex Agent")
    sign_in(page, base_url, "agent", shoot)

    page.goto(f"{base_url}/console/customers/{ada}")
    communications = page.locator("section", has=page.get_by_role("heading", name="Communications"))
    communications.locator(f"#communication-{wrong.communication_id}").get_by_role(
        "link", name="Report an error"
    ).click()
    page.get_by_label("Wrong field").fill("balance")
    page.get_by_label("It showed").fill("£12.40")
    page.get_by_label("It should have shown").fill("£1,240.00")
    page.get_by_role("button", name="Report the error").click()
    expect(page.get_by_role("heading", name="Correct and re-send")).to_be_visible()
    expect(page.get_by_label("Correct value")).to_have_value("£1,240.00")  # what the report said it should be
    shoot("resend-form")
    page.get_by_role("button", name="Correct and re-send").click()
    expect(page.get_by_role("status")).to_contain_text("Corrected and re-sent")
    sent = page.locator("section", has=page.get_by_role("heading", name="The communications"))
    expect(sent.locator("tr", has_text="Wrong")).to_contain_text("balance: £12.40")
    expect(sent.locator("tr", has_text="Re-sent, corrected")).to_contain_text("balance: £1,240.00")
    expect(page.get_by_role("heading", name="Correct and re-send")).to_have_count(0)
    shoot("resent")
    error_path = page.url.split(base_url)[1].split("?")[0]

    sent.locator("tr", has_text="Re-sent, corrected").get_by_role("link").click()  # to the customer's page
    timeline = page.locator("section", has=page.get_by_role("heading", name="Communications"))
    expect(timeline.get_by_role("link", name="Re-sent for error")).to_have_attribute("href", error_path)
    first = timeline.locator(f"#communication-{wrong.communication_id}")
    first.get_by_role("link", name="Error #").click()
    expect(page).to_have_url(f"{base_url}{error_path}")
    shoot("linked")
