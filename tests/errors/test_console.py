"""The console: an agent reports a misspelt name from the customer's communications and fixes it on the call; a
wrong balance is escalated with the next steps shown; the queue orders by severity; a supervisor closes a problem;
roles decide who sees what."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.service import ExternalCommunication, log_external
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.console.conftest import console, log_in
from tests.errors.builders import log_run, report
from tests.support.builders import make_user
from tests.support.people import person

__all__ = ["console"]  # the console's client (base URL localhost, where its cookies are set)


def _error_id(response_location: str) -> int:
    found = re.search(r"/console/errors/(\d+)", response_location)
    assert found is not None
    return int(found.group(1))


def test_an_agent_reports_and_fixes_a_misspelt_name_on_the_call(
    console: TestClient, engine: Engine, settings: Settings
) -> None:
    client = console
    ada = person(client, engine, settings)
    with unit_of_work(engine) as session:
        log_external(
            session,
            [ExternalCommunication("w-1", ada, "notice", "paper", "print-house", template="welcome", batch="w")],
        )
    make_user(engine, "agent", "agent")
    token = log_in(client, "agent")
    customer = client.get(f"/console/customers/{ada}")
    assert f"/console/errors/new?profile={ada}&amp;communication=w-1" in customer.text
    form = client.get(f"/console/errors/new?profile={ada}&communication=w-1")
    assert 'value="w-1" selected' in form.text
    made = client.post(
        "/console/errors",
        data={
            "csrf_token": token,
            "profile_id": str(ada),
            "communication_id": "w-1",
            "field": "first_name",
            "shown": "Adda",
            "expected": "Ada",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text[:500]
    error_id = _error_id(made.headers["location"])
    page = client.get(f"/console/errors/{error_id}")
    assert "Fix it now" in page.text
    fixed = client.post(
        f"/console/errors/{error_id}/fix", data={"csrf_token": token, "trait": "first_name", "value": "Ada"}
    )
    assert "Fixed: the record is corrected" in fixed.text
    assert "Correction</dt><dd>event #" in fixed.text
    assert "Fix it now" not in fixed.text


def test_a_wrong_balance_is_escalated_and_the_agent_sees_what_happens_next(console: TestClient, engine: Engine) -> None:
    client = console
    ids = log_run(engine, "nov", 4)
    low = report(engine, [ids[0]], "first_name")
    high = report(engine, [ids[1]], "balance", shown="£12", expected="£1,200")
    critical = report(engine, [ids[2]], "recipient")
    make_user(engine, "agent", "agent")
    log_in(client, "agent")
    queue = client.get("/console/errors").text
    order = [int(m) for m in re.findall(r'href="/console/errors/(\d+)"', queue)]
    assert order == [critical.id, high.id, low.id]
    page = client.get(f"/console/errors/{high.id}").text
    assert "Escalated as high to operations" in page
    assert "Tell the customer: Our operations team will check the figures" in page
    assert "Fix it now" not in page
    regulatory = client.get(f"/console/errors/{critical.id}").text
    assert "GDPR Art. 33" in regulatory


def test_a_supervisor_closes_a_problem_and_an_analyst_sees_only_aggregates(console: TestClient, engine: Engine) -> None:
    client = console
    ids = log_run(engine, "nov", 6)
    report(engine, [ids[0]], "balance")
    problem_id = report(engine, [ids[1]], "balance").problem_id
    make_user(engine, "super", "supervisor")
    make_user(engine, "analyst", "analyst")
    token = log_in(client, "super")
    page = client.get(f"/console/problems/{problem_id}").text
    assert "<strong>6</strong> communications in 1 run(s): 2 reported, <strong>4</strong> other recipients" in page
    refused = client.post(f"/console/problems/{problem_id}/close", data={"csrf_token": token, "root_cause": "x"})
    assert refused.status_code == 400
    closed = client.post(
        f"/console/problems/{problem_id}/close",
        data={"csrf_token": token, "root_cause": "pence as pounds", "corrective_action": "mapping fixed"},
    )
    assert "The problem is closed" in closed.text
    log_in(client, "analyst")
    assert client.get("/console/errors").status_code == 403
    reports = client.get("/console/error-reports")
    assert reports.status_code == 200
    assert "statement_ready" in reports.text


def test_the_queue_pages_on_by_the_last_errors_place(console: TestClient, engine: Engine) -> None:
    from seamline.console.errors_queue import PAGE_SIZE

    ids = log_run(engine, "many", PAGE_SIZE + 3)
    for i in ids:
        report(engine, [i], "first_name")
    make_user(engine, "agent", "agent")
    log_in(console, "agent")
    first = console.get("/console/errors").text
    found = re.search(r'href="/console/errors\?severity=&amp;after=([0-9.]+)">Next page', first)
    assert found is not None
    second = console.get(f"/console/errors?after={found.group(1)}").text
    seen = re.findall(r'href="/console/errors/(\d+)"', first) + re.findall(r'href="/console/errors/(\d+)"', second)
    assert sorted(map(int, seen)) == sorted({int(s) for s in seen})  # nobody twice
    assert len(seen) == PAGE_SIZE + 3  # nobody skipped
    assert "Next page" not in second
    assert console.get("/console/errors?after=not-a-place").status_code == 400
