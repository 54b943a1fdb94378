"""The case pages through the app: open a case from the customer page, work it, hand it off, escalate it, and
the queues; refused moves, roles, CSRF, audit and escaping."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.audit.service import entries
from seamline.cases.config import CasesConfig
from seamline.cases.service import get_case, open_case
from seamline.cases.views import CaseView
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from tests.console.conftest import SignIn, log_in
from tests.console.people import ada_and_grace
from tests.support.builders import make_user

_CASE = re.compile(r"/console/cases/(\d+)\?saved=opened$")


def open_from_customer_page(console: TestClient, token: str, profile_id: int, **fields: str) -> int:
    """Open a case through the customer page's form; returns its id."""
    form = {"csrf_token": token, "subject": "Card declined abroad", "priority": "high", "channel": "phone"}
    response = console.post(f"/console/customers/{profile_id}/cases", data={**form, **fields}, follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    found = _CASE.search(response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


def case_of(engine: Engine, case_id: int) -> CaseView:
    with unit_of_work(engine, write=False) as session:
        return get_case(session, CasesConfig(), case_id)


def _shape(case: CaseView) -> tuple[object, ...]:
    return (case.status, case.priority, case.assignee, case.queue, case.handoff, case.entries)


def test_an_agent_opens_a_case_from_the_customer_page_and_works_it(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    token = sign_in("agent")
    customer = console.get(f"/console/customers/{ada}")
    assert "No open cases." in customer.text
    assert f'action="/console/customers/{ada}/cases"' in customer.text
    assert 'href="/console/cases"' in customer.text  # the shell's navigation

    cid = open_from_customer_page(console, token, ada, note="Customer is in Lisbon, card declined at a hotel")
    page = console.get(f"/console/cases/{cid}?saved=opened")
    assert page.status_code == 200
    assert "The case is opened." in page.text
    assert "No handoff summary yet" in page.text
    assert "Customer is in Lisbon" in page.text
    assert "First response" in page.text
    assert "left" in page.text
    listed = console.get(f"/console/customers/{ada}")
    assert f"/console/cases/{cid}" in listed.text
    assert "No open cases." not in listed.text

    # The customer writes by email through the API: the message joins the same thread.
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "mail-bridge", ["cases:write"])
    inbound = console.post(
        "/v1/cases/inbound",
        headers={"Authorization": f"Bearer {key}"},
        json={"customer": "email:ada@example.com", "channel": "email", "body": "Still declined this morning"},
    )
    assert inbound.status_code == 200, inbound.text
    assert inbound.json()["case"]["id"] == cid

    form = {"csrf_token": token}
    reply = {**form, "kind": "reply", "channel": "chat", "body": "We lifted the travel block"}
    assert console.post(f"/console/cases/{cid}/entries", data=reply).status_code == 200
    note = {**form, "kind": "note", "channel": "chat", "body": "Checked the fraud flags"}
    assert "Added to the thread." in console.post(f"/console/cases/{cid}/entries", data=note).text
    handoff = {
        **form,
        "verified": "Date of birth and the last four card digits",
        "customer_said": "Declined at the Lisbon hotel twice",
        "tried": "Lifted the travel block",
    }
    saved = console.post(f"/console/cases/{cid}/handoff", data=handoff)
    assert "The handoff summary is saved as a new version." in saved.text
    text = saved.text
    assert text.index("Handoff summary") < text.index("Where it stands") < text.index('id="thread"')
    assert "Version 1, written by agent" in text
    assert text.index("Customer is in Lisbon") < text.index("Still declined") < text.index("travel block</p>")
    assert "inbound" in text
    assert "email" in text
    second = console.post(f"/console/cases/{cid}/handoff", data={**handoff, "next_step": "Call back at 17:00"})
    assert "Version 2, written by agent" in second.text
    assert "Earlier versions (1)" in second.text

    pending = {**form, "status": "pending-customer", "reason": "asked for a photo"}
    assert "pending-customer" in console.post(f"/console/cases/{cid}/status", data=pending).text
    assert "paused while pending customer" in console.get(f"/console/cases/{cid}").text
    assert console.post(f"/console/cases/{cid}/priority", data={**form, "priority": "urgent"}).status_code == 200
    assert console.post(f"/console/cases/{cid}/pick-up", data=form).status_code == 200
    assert console.post(f"/console/cases/{cid}/status", data={**form, "status": "resolved"}).status_code == 200

    case = case_of(engine, cid)
    assert (case.status, case.priority, case.assignee, case.opened_by) == ("resolved", "urgent", "agent", "agent")
    assert case.sla.first_response.state == "met"
    assert case.handoff is not None
    assert case.handoff.version == 2
    mine = [e for e in case.entries if e.author_name == "agent"]
    assert {e.surface for e in mine} == {"console"}
    channels = {(e.kind, e.direction, e.channel) for e in case.entries if e.kind != "event"}
    assert channels == {
        ("note", "internal", "console"),
        ("message", "inbound", "email"),
        ("message", "outbound", "chat"),
    }
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=ada)
    changes = [e.detail["action"] for e in reversed(audited) if e.action == "change" and e.actor == "console:agent"]
    assert changes == ["open", "entry", "entry", "handoff", "handoff", "status", "priority", "pick_up", "status"]
    assert all(e.surface == "console" for e in audited if e.actor == "console:agent")
    reads = [e.detail for e in audited if e.action == "read" and e.actor == "console:agent"]
    assert {"view": "console_case", "case": cid} in reads
    assert {"view": "console", "cases": [cid]} in reads


def test_refused_moves_and_bad_input_are_pages_that_say_why(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    token = sign_in("agent")
    form = {"csrf_token": token}
    cid = open_from_customer_page(console, token, ada)
    before = _shape(case_of(engine, cid))

    for data, status, said in (
        ({"status": "closed"}, 409, "an open case can go to pending-customer, escalated, resolved; not closed"),
        ({"status": "open"}, 409, "already open"),
        ({"status": "escalated"}, 400, "escalate with a reason instead"),
        ({"status": "sleeping"}, 400, "status must be one of"),
        ({"status": ""}, 400, "choose a status"),
    ):
        refused = console.post(f"/console/cases/{cid}/status", data={**form, **data})
        assert refused.status_code == status, (data, refused.text[:500])
        assert said in refused.text, data
        assert "Nothing was changed" in refused.text or "Nothing was changed." in refused.text
        assert "Traceback" not in refused.text
    no_reason = console.post(f"/console/cases/{cid}/escalate", data={**form, "reason": "  "})
    assert no_reason.status_code == 400
    assert "<strong>reason</strong>" in no_reason.text
    assert console.post(f"/console/cases/{cid}/priority", data={**form, "priority": "high"}).status_code == 409
    assert console.post(f"/console/cases/{cid}/priority", data={**form, "priority": "asap"}).status_code == 400
    assert console.post(f"/console/cases/{cid}/entries", data={**form, "kind": "note", "body": " "}).status_code == 400
    assert console.post(f"/console/cases/{cid}/entries", data={**form, "kind": "shout", "body": "x"}).status_code == 400
    assert console.post(f"/console/cases/{cid}/handoff", data=form).status_code == 400
    assert console.post(f"/console/customers/{ada}/cases", data={**form, "subject": ""}).status_code == 400
    assert (
        console.post(f"/console/customers/{ada}/cases", data={**form, "subject": "x", "queue": "Bad Q"}).status_code
        == 400
    )
    assert console.get("/console/cases/999999").status_code == 404
    assert console.post("/console/cases/999999/pick-up", data=form).status_code == 404
    assert _shape(case_of(engine, cid)) == before  # nothing changed

    # Resolved, then closed: the page offers only what the state machine allows, and closed is final.
    console.post(f"/console/cases/{cid}/status", data={**form, "status": "resolved"})
    resolved = console.get(f"/console/cases/{cid}")
    assert 'value="open">Open' in resolved.text
    assert 'value="closed"' in resolved.text
    assert 'value="pending-customer"' not in resolved.text
    assert "Reason to escalate" not in resolved.text
    console.post(f"/console/cases/{cid}/status", data={**form, "status": "closed"})
    closed = console.get(f"/console/cases/{cid}")
    assert "closed, which is final" in closed.text
    assert f'action="/console/cases/{cid}/entries"' not in closed.text
    late = console.post(f"/console/cases/{cid}/entries", data={**form, "kind": "note", "body": "one more thing"})
    assert late.status_code == 409
    assert "is closed; open a new case" in late.text


def test_escalation_reaches_the_supervisor_who_reads_the_handoff_first(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    make_user(engine, "lee", "agent")
    token = sign_in("agent")
    form = {"csrf_token": token}
    cid = open_from_customer_page(console, token, ada)
    console.post(f"/console/cases/{cid}/pick-up", data=form)
    console.post(
        f"/console/cases/{cid}/handoff",
        data={**form, "verified": "Passport number", "customer_said": "Wants a refund", "tried": "Refund refused"},
    )
    escalated = console.post(f"/console/cases/{cid}/escalate", data={**form, "reason": "Refund above my limit"})
    assert "escalated to the supervisors" in escalated.text
    assert "Escalated: waiting for a supervisor" in escalated.text
    assert console.post(f"/console/cases/{cid}/pick-up", data=form).status_code == 403
    assert console.post(f"/console/cases/{cid}/assign", data={**form, "assignee": "agent"}).status_code == 403
    assert console.get("/console/cases?escalated=1").status_code == 403
    assert "Escalated (supervisors)" not in console.get("/console/cases").text

    token = sign_in("supervisor")
    form = {"csrf_token": token}
    queue = console.get("/console/cases?escalated=1")
    assert queue.status_code == 200
    assert "Refund above my limit" in queue.text
    assert f'action="/console/cases/{cid}/pick-up"' in queue.text
    assert "Nothing is assigned to you" in console.get("/console/cases?assignee=me").text
    picked = console.post(f"/console/cases/{cid}/pick-up", data=form)
    assert "The case is yours." in picked.text
    text = picked.text
    assert text.index("Passport number") < text.index("Where it stands") < text.index("Refund above my limit")
    assert f"/console/cases/{cid}" in console.get("/console/cases?assignee=me").text
    empty = console.get("/console/cases?escalated=1")
    assert f"/console/cases/{cid}" in empty.text  # still escalated, now with its supervisor
    assert f'action="/console/cases/{cid}/pick-up"' not in empty.text

    assert console.post(f"/console/cases/{cid}/assign", data={**form, "assignee": "nobody-here"}).status_code == 400
    reassigned = console.post(f"/console/cases/{cid}/assign", data={**form, "assignee": "lee", "queue": "refunds"})
    assert "The case is reassigned." in reassigned.text
    case = case_of(engine, cid)
    assert (case.assignee, case.queue, case.escalated_by, case.escalation_reason) == (
        "lee",
        "refunds",
        "agent",
        "Refund above my limit",
    )
    assert console.post(f"/console/cases/{cid}/status", data={**form, "status": "open"}).status_code == 200
    assert "No escalations waiting" in console.get("/console/cases?escalated=1").text


def test_the_queues_filter_page_and_say_when_empty(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, grace = ada_and_grace(console, engine, settings)
    config = CasesConfig()
    long_ago = utcnow() - timedelta(days=30)
    with unit_of_work(engine) as session:
        for i in range(30):
            open_case(
                session,
                config,
                profile_id=grace if i % 2 else ada,
                subject=f"Matter number {i:02d}",
                channel="email",
                actor="seed",
                surface="cli",
                queue="billing" if i < 10 else "support",
                now=long_ago if i == 3 else None,
            )
    token = sign_in("agent")
    first = console.get("/console/cases")
    assert first.status_code == 200
    shown = re.findall(r"Matter number (\d\d)", first.text)
    assert shown == [f"{i:02d}" for i in range(29, 4, -1)]  # newest first, 25 a page
    older = re.search(r'href="(/console/cases\?[^"]*before=\d+)"', first.text)
    assert older
    second = console.get(older.group(1).replace("&amp;", "&"))
    assert re.findall(r"Matter number (\d\d)", second.text) == ["04", "03", "02", "01", "00"]

    billing = console.get("/console/cases", params={"queue": "billing"})
    assert len(re.findall(r"Matter number (\d\d)", billing.text)) == 10
    overdue = console.get("/console/cases", params={"overdue": "1"})
    assert re.findall(r"Matter number (\d\d)", overdue.text) == ["03"]
    assert "overdue by" in overdue.text
    grace_only = console.get("/console/cases", params={"profile": str(grace), "status": ""})
    assert len(re.findall(r"Matter number (\d\d)", grace_only.text)) == 15
    assert "Nothing is assigned to you" in console.get("/console/cases", params={"assignee": "me"}).text
    none = console.get("/console/cases", params={"queue": "nowhere"})
    assert "No cases match these filters" in none.text
    oldest = re.search(r'href="/console/cases/(\d+)">#\d+ Matter number 00', second.text)
    assert oldest
    console.post(f"/console/cases/{oldest.group(1)}/pick-up", data={"csrf_token": token})
    mine = console.get("/console/cases", params={"assignee": "me"})
    assert re.findall(r"Matter number (\d\d)", mine.text) == ["00"]
    assert console.get("/console/cases", params={"status": "sleeping"}).status_code == 400
    assert console.get("/console/cases", params={"before": "x"}).status_code == 400
    with unit_of_work(engine, write=False) as session:
        reads = [e for e in entries(session, subject_type="profile", subject_id=grace) if e.action == "read"]
    assert reads
    assert all(e.actor == "console:agent" and e.detail["view"] == "console_cases" for e in reads)


def test_roles_csrf_and_navigation(console: TestClient, engine: Engine, settings: Settings) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    for role in ("agent", "analyst", "admin"):
        make_user(engine, role, role)
    token = log_in(console, "agent")
    cid = open_from_customer_page(console, token, ada)
    for data in ({}, {"csrf_token": "forged"}):
        refused = console.post(f"/console/cases/{cid}/escalate", data={**data, "reason": "forged"})
        assert refused.status_code == 403
        assert "This form was not accepted" in refused.text
        assert console.post(f"/console/customers/{ada}/cases", data={**data, "subject": "x"}).status_code == 403
    assert case_of(engine, cid).status == "open"
    for role in ("analyst", "admin"):
        log_in(console, role)
        assert 'href="/console/cases"' not in console.get("/console").text
        assert console.get(f"/console/cases/{cid}").status_code == 403
        assert console.get("/console/cases").status_code == 403


def test_hostile_case_text_is_escaped_everywhere(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    token = sign_in("agent")
    script = "<script>alert(1)</script>"
    body = "B" * 10_240
    cid = open_from_customer_page(console, token, ada, subject=script, note=f"</textarea><b>bold</b> {body}")
    tried = "T" * 4_000  # a handoff field's limit
    handoff = {"csrf_token": token, "verified": script, "tried": tried}
    assert console.post(f"/console/cases/{cid}/handoff", data=handoff).status_code == 200
    assert (
        console.post(f"/console/cases/{cid}/escalate", data={"csrf_token": token, "reason": script}).status_code == 200
    )
    for url in (f"/console/cases/{cid}", "/console/cases", f"/console/customers/{ada}"):
        page = console.get(url)
        assert page.status_code == 200, url
        assert script not in page.text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, url
        assert "<b>bold</b>" not in page.text, url
    case_page = console.get(f"/console/cases/{cid}").text
    assert case_page.count(body) == 1  # the note, whole
    assert case_page.count(tried) == 2  # the handoff, and its edit form
