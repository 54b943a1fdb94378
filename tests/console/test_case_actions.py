"""The case forms' rules that the pages enforce through the services: a case an agent opens is theirs unless they
send it to a queue, and an escalation is settled by a supervisor only, after which every view agrees the case is
no longer escalated."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from tests.console.conftest import SignIn
from tests.console.people import ada_and_grace
from tests.console.test_cases import case_of, open_from_customer_page


def test_a_case_an_agent_opens_is_theirs_unless_they_choose_a_queue(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, grace = ada_and_grace(console, engine, settings)
    token = sign_in("agent")
    form = console.get(f"/console/customers/{ada}").text
    assert 'id="c-queue" name="queue" maxlength="64" placeholder=' in form  # empty: the agent keeps the case

    mine = open_from_customer_page(console, token, ada)
    case = case_of(engine, mine)
    assert (case.assignee, case.queue) == ("agent", "support")
    assert case.entries[0].body == "opened in support (high), assigned to agent"
    assert f"/console/cases/{mine}" in console.get("/console/cases", params={"assignee": "me"}).text

    queued = open_from_customer_page(console, token, grace, queue="billing")
    case = case_of(engine, queued)
    assert (case.assignee, case.queue) == (None, "billing")
    unassigned = console.get("/console/cases", params={"assignee": "none"}).text
    assert f"/console/cases/{queued}" in unassigned
    assert f"/console/cases/{mine}" not in unassigned


def test_an_agent_cannot_undo_an_escalation_and_a_supervisor_settles_it(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    token = sign_in("agent")
    cid = open_from_customer_page(console, token, ada)
    console.post(f"/console/cases/{cid}/escalate", data={"csrf_token": token, "reason": "Refund above my limit"})
    page = console.get(f"/console/cases/{cid}").text
    assert f'action="/console/cases/{cid}/status"' not in page
    for status in ("open", "pending-customer", "resolved"):
        refused = console.post(f"/console/cases/{cid}/status", data={"csrf_token": token, "status": status})
        assert refused.status_code == 403
        assert "a supervisor settles it" in refused.text
    case = case_of(engine, cid)
    assert (case.status, case.queue, case.assignee, case.escalation_reason) == (
        "escalated",
        "supervisors",
        None,
        "Refund above my limit",
    )

    token = sign_in("supervisor")
    assert f"/console/cases/{cid}" in console.get("/console/cases", params={"escalated": "1"}).text
    page = console.get(f"/console/cases/{cid}").text
    assert f'action="/console/cases/{cid}/status"' in page
    assert "Refund above my limit" in page
    settled = console.post(
        f"/console/cases/{cid}/status", data={"csrf_token": token, "status": "open", "reason": "Refund approved"}
    )
    assert settled.status_code == 200
    assert "The status is changed." in settled.text
    assert "<dt>Escalated</dt>" not in settled.text
    assert "escalated → open; back to support: Refund approved" in settled.text
    assert "No escalations waiting" in console.get("/console/cases", params={"escalated": "1"}).text
    waiting = console.get("/console/cases", params={"assignee": "none", "queue": "support"}).text
    assert f"/console/cases/{cid}" in waiting
    case = case_of(engine, cid)
    assert (case.status, case.queue, case.assignee, case.escalated_at) == ("open", "support", None, None)
