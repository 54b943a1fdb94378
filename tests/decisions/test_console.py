"""The customer page shows an agent the next best actions with reasons, and records what the customer said."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.decisions.service import Setup, model_state, outcomes_of
from tests.console.conftest import SignIn
from tests.decisions.test_policy import _track
from tests.support.people import person


def test_an_agent_sees_the_top_actions_with_reasons_and_records_the_answer(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada = person(console, engine, settings)
    _track(
        console,
        engine,
        settings,
        "u-ada",
        ("Account Opened", {"account_id": "CHK-1", "account_type": "checking_account"}),
    )
    csrf = sign_in("agent")

    page = console.get(f"/console/customers/{ada}").text
    section = page[page.index('id="actions"') : page.index('id="timeline"')]
    assert "Go paperless" in section
    assert "eligible: (holds checking_account or holds mortgage or holds credit_card)" in section
    assert "propensity" in section
    assert "Easy-access savings" in section.split("Not suggested")[1]  # no marketing consent on the call
    assert "no consent to marketing by call_center" in section

    answer = console.post(
        f"/console/customers/{ada}/actions/paperless_nudge/outcome",
        data={"outcome": "accepted", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    with unit_of_work(engine, write=False) as session:
        recorded = [(o.outcome, o.origin, o.actor) for o in outcomes_of(session, ada)]
        state = {r.action: r for r in model_state(session, Setup.default(settings.consent).catalog)}
    assert sorted(recorded) == [("accepted", "console", "agent"), ("shown", "console", "agent")]
    assert (state["paperless_nudge"].shown, state["paperless_nudge"].accepted) == (1, 1)
    refused = console.post(
        f"/console/customers/{ada}/actions/paperless_nudge/outcome", data={"outcome": "maybe", "csrf_token": csrf}
    )
    assert refused.status_code == 400
