"""Journeys in the console: open journeys on the customer page, an agent completing only the steps agents may,
and the journeys board — counts for analysts, the instances behind them for supervisors."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.cases.service import get_case
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.journeys import actions
from seamline.pipeline.registry import Pipeline
from tests.console.conftest import SignIn
from tests.journeys.support import load_demo_definitions
from tests.support.flows import profile_holding

ABOUT = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}


def _ann_mid_mortgage(engine: Engine, settings: Settings) -> tuple[int, str]:
    load_demo_definitions(engine)
    pipeline = Pipeline(settings.identity, settings.consent, settings.traits)
    phone = actions.Actor("mobile", "phone")
    with unit_of_work(engine) as session:
        row = actions.start(session, pipeline, "apply_for_mortgage", {"userId": "u-ann"}, phone)
        actions.save(session, pipeline, row.public_id, "about_you", ABOUT, phone, complete=True)
        public_id = row.public_id
    return profile_holding(engine, "user_id:u-ann"), public_id


def test_an_agent_sees_open_journeys_first_and_completes_only_agent_steps(
    console: TestClient, engine: Engine, settings: Settings, sign_in: SignIn
) -> None:
    ann, instance = _ann_mid_mortgage(engine, settings)
    token = sign_in("agent")
    page = console.get(f"/console/customers/{ann}").text
    assert page.index("Open journeys") < page.index("Golden record")
    assert "Now: The property" in page
    assert "mobile (phone)" in page
    assert "ann@example.com" in page  # the data already given, with where

    refused = console.post(
        f"/console/customers/{ann}/journeys/{instance}/steps/offer",
        data={"csrf_token": token, "field.offer_accepted": "yes"},
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert "may not be completed by an agent" in refused.text
    done = console.post(
        f"/console/customers/{ann}/journeys/{instance}/steps/property",
        data={"csrf_token": token, "field.property_value": "450000", "field.loan_amount": "300000"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = console.get(done.headers["location"]).text
    assert "Now: Your income" in page
    assert "call-center by agent agent" in page
    assert console.get("/console/journeys").status_code == 403  # the board is for supervisors and analysts


def test_the_board_counts_for_analysts_and_lists_people_for_supervisors(
    console: TestClient, engine: Engine, settings: Settings, sign_in: SignIn
) -> None:
    ann, _instance = _ann_mid_mortgage(engine, settings)
    query = "/console/journeys?journey=apply_for_mortgage&status=open&step=property"
    sign_in("analyst")
    board = console.get(query)
    assert board.status_code == 200
    assert "Apply for a mortgage" in board.text
    assert f"Profile #{ann}" not in board.text
    sign_in("supervisor")
    assert f"Profile #{ann}" in console.get(query).text


def test_an_agent_takes_a_journey_over_as_a_case_that_links_it_and_hands_over_what_was_given(
    console: TestClient, engine: Engine, settings: Settings, sign_in: SignIn
) -> None:
    ann, instance = _ann_mid_mortgage(engine, settings)
    token = sign_in("agent")
    assert "Take over as a case" in console.get(f"/console/customers/{ann}").text
    taken = console.post(
        f"/console/customers/{ann}/journeys/{instance}/case", data={"csrf_token": token}, follow_redirects=False
    )
    assert taken.status_code == 303
    case_id = int(taken.headers["location"].split("/")[-1].split("?")[0])
    with unit_of_work(engine, write=False) as session:
        case = get_case(session, settings.cases, case_id)
    assert (case.journey_instance_id, case.journey_step, case.assignee) == (instance, "property", "agent")
    assert case.as_dict()["journey"] == {"instance_id": instance, "step": "property"}
    assert case.handoff is not None
    assert "ann@example.com — mobile (phone)" in case.handoff.customer_said  # nobody asks for it again
    assert "About you — done through mobile" in case.handoff.tried
    assert "Complete “The property” with the customer" in case.handoff.next_step
    page = console.get(taken.headers["location"]).text
    assert f'href="/console/customers/{ann}#journey-{instance}">Apply for a mortgage</a>' in page
    assert "handed over at “The property”" in page
    # Taken over again while its case is open: that case, not a second one.
    again = console.post(
        f"/console/customers/{ann}/journeys/{instance}/case", data={"csrf_token": token}, follow_redirects=False
    )
    assert again.headers["location"] == f"/console/cases/{case_id}?saved=journey_case"

    # Another customer's journey cannot be taken over through this customer's page.
    other, _ = _someone_else(engine, settings)
    refused = console.post(
        f"/console/customers/{other}/journeys/{instance}/case", data={"csrf_token": token}, follow_redirects=False
    )
    assert refused.status_code == 404


def _someone_else(engine: Engine, settings: Settings) -> tuple[int, str]:
    pipeline = Pipeline(settings.identity, settings.consent, settings.traits)
    with unit_of_work(engine) as session:
        row = actions.start(session, pipeline, "go_paperless", {"userId": "u-bob"}, actions.Actor("web"))
        public_id = row.public_id
    return profile_holding(engine, "user_id:u-bob"), public_id
