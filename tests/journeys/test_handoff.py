"""Taking a journey over as a case: through the API (`POST /v1/journeys/{id}/handoff`: scopes, audit, errors by
field, a second call answers the same case), and by itself when a journey whose definition says `on_stall: case`
stalls (one case per stalled instance, none when the journey already has one)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from seamline.audit.models import AuditEntry
from seamline.cases.models import Case
from seamline.cases.service import get_case
from seamline.cases.workflow import change_status
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.journeys import actions, service
from seamline.journeys.takeover import take_over
from seamline.pipeline.registry import Pipeline
from seamline.worker.schedule import Schedule, default_jobs
from tests.journeys.support import complete, journey_key, load_demo_definitions, ok, start

HANDS_OVER = ("journeys:read", "journeys:write", "cases:write")


def _handoff(client: TestClient, headers: dict[str, str], instance: str, **body: Any) -> Any:
    return client.post(f"/v1/journeys/{instance}/handoff", json=body or None, headers=headers)


def test_the_api_takes_a_journey_over_once_with_what_was_given_and_audits_it(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine, HANDS_OVER)
    instance = start(client, headers, "apply_for_mortgage", user_id="u-ann", channel="mobile", device="phone")
    public_id = instance["instance_id"]
    about = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    complete(client, headers, public_id, "about_you", about, channel="mobile", device="phone")

    case = ok(_handoff(client, headers, public_id, queue="mortgages", priority="high"), 201)
    assert case["journey"] == {"instance_id": public_id, "step": "property"}
    assert (case["queue"], case["priority"], case["status"], case["opened_by"]) == (
        "mortgages",
        "high",
        "open",
        "backend-journeys-read-journeys-write-cases-write",
    )
    assert "first_name: Ann — mobile (phone)" in case["handoff"]["customer_said"]  # nobody asks for it again
    assert "About you — done through mobile" in case["handoff"]["tried"]

    # Idempotent: the journey's open case is the answer, whatever the second call asks for.
    again = ok(_handoff(client, headers, public_id, queue="support", priority="low"), 200)
    assert (again["id"], again["queue"], again["priority"]) == (case["id"], "mortgages", "high")
    with unit_of_work(engine, write=False) as session:
        assert session.scalars(select(Case.id).where(Case.journey_instance_id == public_id)).all() == [case["id"]]
        audited = session.scalars(select(AuditEntry).where(AuditEntry.subject_id == str(case["profile_id"]))).all()
    handoffs = [(a.action, a.detail.get("case")) for a in audited if (a.detail or {}).get("via") == "journey handoff"]
    assert handoffs == [("change", case["id"]), ("read", case["id"])]

    # Once the case is resolved, someone taking the journey over again starts a new case.
    with unit_of_work(engine) as session:
        change_status(session, settings.cases, case["id"], "resolved", actor="maria", surface="api")
    fresh = ok(_handoff(client, headers, public_id), 201)
    assert fresh["id"] != case["id"]
    assert (fresh["queue"], fresh["priority"], fresh["assignee"]) == (settings.cases.default_queue, "normal", None)


def test_the_api_refuses_without_the_scopes_or_with_bad_input_as_json(client: TestClient, engine: Engine) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine, HANDS_OVER)
    public_id = start(client, headers, "go_paperless", user_id="u-bo", channel="web")["instance_id"]

    no_cases = _handoff(client, journey_key(engine), public_id)  # journeys:write alone
    assert no_cases.status_code == 403
    assert no_cases.json()["error"]["code"] == "forbidden"
    no_journeys = _handoff(client, journey_key(engine, ("cases:write",)), public_id)
    assert no_journeys.status_code == 403
    assert _handoff(client, {}, public_id).status_code == 401

    missing = _handoff(client, headers, "jrn_nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"

    bad = _handoff(client, headers, public_id, priority="asap", queue="Not A Queue", channel="pigeon")
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["error"]["errors"]} == {"priority", "queue", "channel"}
    with unit_of_work(engine, write=False) as session:  # nothing was opened
        assert session.scalars(select(Case.id).where(Case.journey_instance_id == public_id)).all() == []


def test_a_journey_that_says_so_opens_one_case_as_it_stalls(engine: Engine, settings: Settings) -> None:
    load_demo_definitions(engine)  # open_checking_account: on_stall: {case: {queue: onboarding}}; go_paperless: none
    pipeline = Pipeline(settings.identity, settings.consent, settings.traits)
    with unit_of_work(engine) as session:
        checking = actions.start(session, pipeline, "open_checking_account", {"userId": "u-kim"}, actions.Actor("web"))
        actions.save(session, pipeline, checking.public_id, "about_you", {"first_name": "Kim"}, actions.Actor("web"),
                     complete=False)  # fmt: skip
        paperless = actions.start(session, pipeline, "go_paperless", {"userId": "u-kim"}, actions.Actor("web"))
        taken = actions.start(session, pipeline, "open_checking_account", {"userId": "u-lou"}, actions.Actor("web"))
        # Lou's journey was already taken over by an agent: its stall opens no second case.
        manual = take_over(session, settings.cases, taken, profile_id=taken.profile_id, channel="phone",
                           actor="maria", surface="console", assignee="maria")  # fmt: skip
        ids = (checking.public_id, paperless.public_id, taken.public_id)
    now = utcnow()
    clock = _Clock(now + timedelta(days=2, minutes=5))
    schedule = Schedule(engine, [j for j in default_jobs(settings) if j.name == "journeys.stall_scan"], clock=clock)
    assert schedule.run_due() == {"journeys.stall_scan": 3}

    with unit_of_work(engine, write=False) as session:
        cases = session.scalars(select(Case).where(Case.journey_instance_id.in_(ids)).order_by(Case.id)).all()
        assert [(c.journey_instance_id, c.id == manual.case_id) for c in cases] == [
            (taken.public_id, True),
            (checking.public_id, False),
        ]
        opened = get_case(session, settings.cases, cases[1].id)
        assert service.instance(session, checking.public_id).status == "stalled"
    assert (opened.queue, opened.priority, opened.assignee, opened.opened_by) == (
        "onboarding",
        "normal",
        None,
        "seamline",
    )
    assert opened.journey_step == "about_you"
    assert opened.handoff is not None
    assert "first_name: Kim — web" in opened.handoff.customer_said

    # Back, then quiet again: stalled a second time while its case is open, it opens no other; abandoned, neither.
    with unit_of_work(engine) as session:
        actions.save(session, pipeline, checking.public_id, "about_you", {"last_name": "Ng"}, actions.Actor("web"),
                     complete=False)  # fmt: skip
    clock.now = utcnow() + timedelta(days=2, minutes=10)
    schedule.run_due()
    clock.now = utcnow() + timedelta(days=30)
    schedule.run_due()
    with unit_of_work(engine, write=False) as session:
        assert service.instance(session, checking.public_id).status == "abandoned"
        count = session.scalars(select(Case.id).where(Case.journey_instance_id == checking.public_id)).all()
    assert len(count) == 1


class _Clock:
    def __init__(self, now: Any) -> None:
        self.now = now

    def __call__(self) -> Any:
        return self.now
