"""The console's tasks: the work queue and the customer page show a rule's task with its context to the roles that
work cases; an agent picks it up and records its outcome and follow-up; an analyst sees none of it."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.console.conftest import SignIn
from tests.triggers.world import World, rule_folder

STALL_TASK = """
name: income-stall
on:
  event: Journey Stalled
  where: {journey: mortgage-application, step: income}
do:
  task: {title: "Call {traits.first_name} about the income step", queue: mortgages, skills: [mortgages], priority: high}
"""


def test_an_agent_works_a_rules_task_from_the_queue_and_sees_it_on_the_customer_page(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"stall": STALL_TASK}))
    world.customer("u-1", "Grace")
    world.send("u-1", "Journey Stalled", {"journey": "mortgage-application", "step": "income", "instance_id": "ji-7"})
    profile = world.profile("u-1")
    [task] = world.tasks()

    token = sign_in("agent")
    queue = console.get("/console/tasks?queue=mortgages")
    assert queue.status_code == 200
    assert "Call Grace about the income step" in queue.text
    assert "rule income-stall" in queue.text
    assert "journey ji-7" in queue.text
    assert 'href="/console/tasks"' in queue.text  # in the navigation
    picked = console.post(f"/console/tasks/{task.id}/pick-up", data={"csrf_token": token}, follow_redirects=False)
    assert picked.status_code == 303
    customer = console.get(f"/console/customers/{profile}")
    assert 'id="tasks"' in customer.text
    assert "Call Grace about the income step" in customer.text
    assert f'action="/console/tasks/{task.id}/complete"' in customer.text  # it is the agent's now
    done = console.post(
        f"/console/tasks/{task.id}/complete",
        data={"csrf_token": token, "outcome": "resolved", "note": "Payslips promised", "follow_up": "Check payslips",
              "follow_up_hours": "4", "back": f"/console/customers/{profile}"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/customers/{profile}?saved=task-done"
    assert "The outcome of the task is recorded." in console.get(done.headers["location"]).text
    page = console.get("/console/tasks?view=done")
    assert "Payslips promised" in page.text
    assert "Check payslips" in console.get("/console/tasks").text
    bad = console.post(f"/console/tasks/{task.id}/complete", data={"csrf_token": token, "outcome": "maybe"})
    assert bad.status_code in (400, 409)
    with unit_of_work(engine, write=False) as session:
        actions = [
            e.detail.get("action") for e in entries(session, subject_type="profile", subject_id=profile, limit=50)
        ]
    assert "pick-up" in actions
    assert "complete" in actions

    sign_in("analyst")
    assert console.get("/console/tasks").status_code == 403
